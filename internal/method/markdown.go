package method

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/regione-lombardia/oml"
)

// kindLabels describe each kind of indicator in Italian.
var kindLabels = map[string]string{
	KindFlow:       "flusso: somma (con segno) degli eventi del periodo",
	KindCumulative: "cumulato: somma progressiva dal gennaio del primo anno",
	KindStock:      "stock: valore alla fine del periodo",
	KindDistinct:   "conteggio distinto di persone o datori",
	KindRatio:      "rapporto tra due somme del periodo",
	KindMedian:     "mediana dei valori del periodo",
	KindRate:       "tasso: flusso del periodo sullo stock all'inizio del periodo",
}

// eventLabels name the event kinds measures count.
var eventLabels = map[string]string{
	"A": "attivazioni", "C": "cessazioni comunicate", "CI": "cessazioni imputate", "P": "proroghe",
	"T": "trasformazioni", "MV": "spostamenti di posizione delle trasformazioni", "PO": "aperture (+1) e chiusure (-1) di posizioni",
}

var levelLabels = map[oml.Level]string{
	oml.LevelRegion: "Regione", oml.LevelProvince: "Province", oml.LevelCPI: "Centri per l'impiego", oml.LevelComune: "Comuni",
}

// Markdown writes the methodology document (docs/metodologia.md) in
// Italian, from the catalogue alone: what the document says is what the
// software computes.
func (c *Catalogue) Markdown(w io.Writer, names *Names) error {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("# %s\n\n", c.Title)
	p("Versione della metodologia: **%s**. Questo documento è generato dal catalogo degli indicatori\n", c.Version)
	p("(`internal/method/catalogo.json`) con cui il software calcola ogni cifra: non modificarlo a mano\n")
	p("(`go test ./internal/method -run TestMethodologyDoc -update` lo rigenera).\n\n")
	p("Ogni cifra pubblicata porta con sé la release, la data di riferimento dei dati (vintage), la versione\n")
	p("della metodologia, il perimetro, l'ambito e uno stato per cella. Un cambiamento di definizione è una\n")
	p("nuova versione, mai una modifica silenziosa.\n\n")

	p("## Unità, eventi e ricostruzione dei rapporti\n\n")
	p("L'unità è il **rapporto di lavoro** e gli eventi comunicati su di esso: **A** attivazione (data di\n")
	p("inizio), **C** cessazione (ultimo giorno lavorato), **P** proroga (nuova data di fine prevista), **T**\n")
	p("trasformazione (da tempo determinato o apprendistato a tempo indeterminato, da tempo parziale a pieno e\n")
	p("viceversa). Rettifiche (R) e annullamenti (X) sono applicati prima di ogni calcolo: ogni rapporto è\n")
	p("ricostruito dai suoi eventi correnti.\n\n")
	p("- **Cessazioni imputate**: un rapporto a termine senza cessazione comunicata e senza trasformazione a\n")
	p("  tempo indeterminato si chiude alla sua ultima data di fine prevista, se questa non supera la data di\n")
	p("  riferimento dei dati. Una cessazione comunicata in seguito sostituisce quella imputata (revisione).\n")
	p("- **Posizioni**: un rapporto è una posizione aperta dal giorno di inizio fino al giorno successivo\n")
	p("  all'ultimo giorno lavorato; i rapporti iniziati prima del %d entrano nello stock del primo mese.\n", c.FirstYear)
	p("- **Serie**: mensili dal gennaio %d alla data di riferimento; trimestri e anni sommano i mesi (gli\n", c.FirstYear)
	p("  stock prendono il valore a fine periodo).\n\n")

	p("## Perimetro e ambito\n\n")
	p("- Perimetro `%s` (predefinito): comune della sede di lavoro; `%s`: comune di residenza del\n", oml.Workplace, oml.Residence)
	p("  lavoratore. Le cifre dei due perimetri differiscono anche del 10-15%%: ogni cifra dichiara il suo.\n")
	p("- Ambito `%s`: tutti i rapporti di lavoro dipendente e parasubordinato; `%s`: tempo indeterminato,\n", oml.ScopeFull, oml.ScopeCore)
	p("  tempo determinato e apprendistato fuori dalla pubblica amministrazione (sezione ATECO O), l'insieme\n")
	p("  mensile più tempestivo.\n\n")

	p("## Stati delle celle e controllo della riservatezza\n\n")
	p("| stato | significato |\n|---|---|\n")
	p("| `A` | valore normale |\n")
	p("| `P` | provvisorio: gli ultimi %d mesi della release e i trimestri e gli anni che li contengono |\n", c.ProvisionalMonths)
	p("| `C` | riservato: valore soppresso dal controllo della riservatezza |\n")
	p("| `M` | non disponibile: i dati di origine non permettono l'indicatore (dati aperti senza identificativi) |\n\n")
	p("Per ogni lettore senza diritti sui microdati:\n\n")
	p("1. **Soppressione primaria**: una cella che poggia su 1-%d eventi, lavoratori o datori è soppressa; per\n", c.Disclosure.K-1)
	p("   un saldo la regola guarda ogni termine contato, per quote, tassi e mediane numeratore e denominatore.\n")
	p("   Lo zero resta zero.\n")
	p("2. **Soppressione secondaria**: per gli indicatori additivi, in ogni relazione lineare delle tavole\n")
	p("   pubblicate (modalità di una dimensione e totale; province, CPI e regione; comuni e provincia; mesi,\n")
	p("   trimestri e anno; saldo e cessazioni rispetto ai loro termini) una cella soppressa da sola potrebbe\n")
	p("   essere ricavata per differenza: si sopprime anche la più piccola (in valore assoluto) tra le altre\n")
	p("   parti della relazione, e il totale solo se nessuna parte lo può essere (il totale di un saldo è\n")
	p("   spesso il numero più piccolo della sua relazione, ma dice più di ogni sua parte), fino a che\n")
	p("   nessuna relazione ha una sola cella soppressa.\n")
	if c.Disclosure.RoundTo > 1 {
		p("3. **Arrotondamento** dei conteggi pubblicati a multipli di %d.\n", c.Disclosure.RoundTo)
	} else {
		p("3. **Arrotondamento**: previsto dal catalogo (multipli di 5), non attivo in questa versione.\n")
	}
	p("\n")

	p("## Indicatori\n\n")
	p("| id | indicatore | unità | tipo | additivo |\n|---|---|---|---|---|\n")
	for _, ind := range c.Indicators {
		add := "no"
		if ind.Additive {
			add = "sì"
		}
		p("| `%s` | %s | %s | %s | %s |\n", ind.ID, ind.Label, ind.Unit, ind.Kind, add)
	}
	p("\n")
	for i := range c.Indicators {
		ind := &c.Indicators[i]
		p("### %s (`%s`)\n\n%s\n\n", ind.Label, ind.ID, ind.Definition)
		p("- Tipo: %s.\n", kindLabels[ind.Kind])
		if f := c.formula(ind); f != "" {
			p("- Calcolo: %s.\n", f)
		}
		if ind.Convention != "" {
			p("- Convenzione: %s.\n", ind.Convention)
		}
		if ind.NeedsIDs {
			p("- Richiede gli identificativi di rapporto e persona: non disponibile (`M`) sui dati aperti.\n")
		}
		var lv []string
		for _, l := range oml.Levels {
			if ind.AtLevel(l) {
				lv = append(lv, levelLabels[l])
			}
		}
		p("- Livelli territoriali: %s.\n", strings.Join(lv, ", "))
		var dims []string
		for _, d := range c.DimensionsOf(ind) {
			dims = append(dims, "`"+d+"`")
		}
		if len(dims) == 0 {
			p("- Disaggregazioni: nessuna.\n\n")
		} else {
			p("- Disaggregazioni: %s.\n\n", strings.Join(dims, ", "))
		}
	}

	p("## Misure elementari\n\nOgni indicatore è calcolato da queste somme sugli eventi.\n\n")
	p("| misura | descrizione | eventi | condizioni |\n|---|---|---|---|\n")
	for _, m := range c.Measures {
		var ev []string
		for _, e := range m.Events {
			ev = append(ev, eventLabels[e])
		}
		var cond []string
		for _, d := range slices.Sorted(maps.Keys(m.Where)) {
			cond = append(cond, fmt.Sprintf("%s ∈ {%s}", d, strings.Join(m.Where[d], ", ")))
		}
		if m.Value != "" {
			cond = append(cond, "somma di "+m.Value)
		}
		p("| `%s` | %s | %s | %s |\n", m.ID, m.Label, strings.Join(ev, ", "), strings.Join(cond, "; "))
	}
	p("\n")

	p("## Dimensioni\n\n")
	for _, d := range c.Dimensions {
		p("### %s (`%s`)\n\n", d.Label, d.ID)
		if d.Partition {
			p("Partizione: ogni evento ha una sola modalità (`%s` se l'informazione manca), le modalità sommano al totale.\n", Unknown)
		} else {
			p("Gruppi sovrapposti: una persona può stare in più gruppi, le modalità non sommano al totale.\n")
		}
		if len(d.AppliesTo) > 0 {
			p("Si applica a: %s.\n", strings.Join(d.AppliesTo, ", "))
		}
		p("\n")
		codes := names.Codes(d.ID)
		if len(codes) > 0 && len(codes) <= 30 {
			p("| codice | modalità |\n|---|---|\n")
			for _, cd := range codes {
				p("| `%s` | %s |\n", cd[0], cd[1])
			}
			p("\n")
		} else if len(codes) > 30 {
			p("%d modalità (elenco completo: `/api/v1/codes/%s`).\n\n", len(codes), d.ID)
		}
	}

	p("## Disaggregazioni pubblicate per livello territoriale\n\n")
	for _, l := range oml.Levels {
		var bs []string
		for _, br := range c.Breakdowns[string(l)] {
			if len(br) == 0 {
				bs = append(bs, "totale")
			} else {
				bs = append(bs, "`"+strings.Join(br, " × ")+"`")
			}
		}
		p("- %s: %s.\n", levelLabels[l], strings.Join(bs, ", "))
	}
	p("\n## Serie derivate\n\n")
	p("Per ogni serie pubblicata l'API calcola, dalle sole celle pubblicate: variazione tendenziale assoluta\n")
	p("(`yoy`) e percentuale (`yoy_pct`), somma mobile di 12 mesi (`roll12`) e serie destagionalizzata\n")
	p("(`sa`, STL robusta, periodo 12 per i mesi e 4 per i trimestri, almeno 36 mesi di dati; parametri in\n")
	p("`docs/adr/0006-stl.md`). Un valore derivato da una cella riservata è riservato.\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// formula describes how an indicator is computed from the measures.
func (c *Catalogue) formula(ind *Indicator) string {
	switch ind.Kind {
	case KindFlow:
		var s strings.Builder
		for i, t := range ind.Terms {
			switch {
			case t.Sign < 0:
				s.WriteString(" − ")
			case i > 0:
				s.WriteString(" + ")
			}
			s.WriteString("`" + t.Measure + "`")
		}
		return s.String()
	case KindCumulative:
		return "somma progressiva di `" + ind.Of + "`"
	case KindStock:
		return "somma progressiva di `" + ind.Measure + "` alla fine del periodo"
	case KindRatio:
		return fmt.Sprintf("%g × `%s` / `%s`", scaleOf(ind), ind.Numerator, ind.Denominator)
	case KindRate:
		return fmt.Sprintf("%g × `%s` / `%s` all'inizio del periodo", scaleOf(ind), ind.Numerator, ind.Stock)
	case KindMedian:
		return "mediana di " + ind.Of + " sulle attivazioni contate da `" + ind.Count + "`"
	case KindDistinct:
		return "numero di " + map[string]string{"worker": "lavoratori", "employer": "datori di lavoro"}[ind.Of] + " distinti con almeno un'attivazione nel periodo"
	}
	return ""
}

func scaleOf(ind *Indicator) float64 {
	if ind.Scale == 0 {
		return 1
	}
	return ind.Scale
}
