package oml

// Reason is the code of why a row was rejected on ingest. Codes are stable
// (they appear in the ingest JSON, in the rejects table and in reports);
// a new reason is a new code, never a renamed one.
type Reason string

// Rejection reasons. Each has an Italian and an English description in
// ReasonText.
const (
	RowMalformed          Reason = "riga_malformata"
	FieldMissing          Reason = "campo_obbligatorio_mancante"
	EventTypeInvalid      Reason = "tipo_evento_invalido"
	EventDateInvalid      Reason = "data_evento_invalida"
	EventDateFuture       Reason = "data_evento_futura"
	EventDateTooOld       Reason = "data_evento_anteriore_2008"
	WorkerCFInvalid       Reason = "cf_lavoratore_invalido"
	EmployerCFInvalid     Reason = "cf_datore_invalido"
	GenderInvalid         Reason = "genere_invalido"
	BirthYearInvalid      Reason = "anno_nascita_invalido"
	AgeInvalid            Reason = "eta_invalida"
	CitizenshipUnknown    Reason = "cittadinanza_sconosciuta"
	EducationUnknown      Reason = "titolo_studio_sconosciuto"
	ComuneUnknown         Reason = "comune_sconosciuto"
	ResComuneUnknown      Reason = "comune_residenza_sconosciuto"
	ProvinceUnknown       Reason = "provincia_sconosciuta"
	AtecoUnknown          Reason = "ateco_sconosciuto"
	ProfessionUnknown     Reason = "professione_sconosciuta"
	ContractUnknown       Reason = "contratto_sconosciuto"
	ContractNotValidAt    Reason = "contratto_non_valido_alla_data"
	WorkingTimeInvalid    Reason = "orario_invalido"
	PlannedEndMissing     Reason = "data_fine_prevista_mancante"
	PlannedEndInvalid     Reason = "data_fine_prevista_invalida"
	TransformationInvalid Reason = "tipo_trasformazione_invalido"
	EndReasonInvalid      Reason = "motivo_cessazione_invalido"
	ProtectedInvalid      Reason = "categoria_protetta_invalida"
	RefMissing            Reason = "rif_comunicazione_mancante"
	RefUnknown            Reason = "rif_comunicazione_sconosciuto"
	DuplicateDifferent    Reason = "id_duplicato_diverso"
)

// ReasonText gives the Italian and English description of every reason.
var ReasonText = map[Reason][2]string{
	RowMalformed:          {"riga non leggibile (virgolette o numero di campi errati)", "unreadable row (quoting or number of fields)"},
	FieldMissing:          {"campo obbligatorio mancante", "required field missing"},
	EventTypeInvalid:      {"tipo evento non valido (A, C, P, T, X, R)", "invalid event type (A, C, P, T, X, R)"},
	EventDateInvalid:      {"data evento non valida (atteso AAAA-MM-GG)", "invalid event date (expected YYYY-MM-DD)"},
	EventDateFuture:       {"data evento nel futuro", "event date in the future"},
	EventDateTooOld:       {"data evento anteriore al 2008", "event date before 2008"},
	WorkerCFInvalid:       {"codice fiscale del lavoratore non valido", "invalid worker fiscal code"},
	EmployerCFInvalid:     {"codice fiscale o partita IVA del datore non valido", "invalid employer fiscal code or VAT number"},
	GenderInvalid:         {"genere non valido (M, F)", "invalid gender (M, F)"},
	BirthYearInvalid:      {"anno di nascita non valido", "invalid birth year"},
	AgeInvalid:            {"età non valida", "invalid age"},
	CitizenshipUnknown:    {"cittadinanza sconosciuta", "unknown citizenship"},
	EducationUnknown:      {"titolo di studio sconosciuto", "unknown education level"},
	ComuneUnknown:         {"comune della sede di lavoro sconosciuto", "unknown workplace comune"},
	ResComuneUnknown:      {"comune di residenza sconosciuto", "unknown residence comune"},
	ProvinceUnknown:       {"provincia sconosciuta", "unknown province"},
	AtecoUnknown:          {"codice ATECO sconosciuto", "unknown ATECO code"},
	ProfessionUnknown:     {"codice professione CP2011 sconosciuto", "unknown CP2011 profession code"},
	ContractUnknown:       {"tipologia contrattuale sconosciuta", "unknown contract type"},
	ContractNotValidAt:    {"tipologia contrattuale non valida alla data dell'evento", "contract type not valid at the event date"},
	WorkingTimeInvalid:    {"orario di lavoro non valido (F, P, V, M)", "invalid working time (F, P, V, M)"},
	PlannedEndMissing:     {"data di fine prevista mancante per un rapporto a termine", "planned end date missing for a fixed-term relationship"},
	PlannedEndInvalid:     {"data di fine prevista non valida o anteriore alla data evento", "planned end date invalid or before the event date"},
	TransformationInvalid: {"tipo trasformazione non valido", "invalid transformation kind"},
	EndReasonInvalid:      {"motivo di cessazione non valido", "invalid termination reason"},
	ProtectedInvalid:      {"categoria protetta non valida (S, N)", "invalid protected category (S, N)"},
	RefMissing:            {"rif_comunicazione mancante per annullamento o rettifica", "rif_comunicazione missing for a cancellation or rectification"},
	RefUnknown:            {"la comunicazione annullata o rettificata non esiste", "the cancelled or rectified communication does not exist"},
	DuplicateDifferent:    {"id_comunicazione già usato con contenuto diverso", "id_comunicazione already used with different content"},
}

// Text returns "italiano / English" for r, or r itself when unknown.
func (r Reason) Text() string {
	t, ok := ReasonText[r]
	if !ok {
		return string(r)
	}
	return t[0] + " / " + t[1]
}

// Reject is one row refused on ingest. It keeps everything needed to find
// and fix the row at the source; Raw is the row as read, with the fiscal
// codes replaced by their pseudonyms (no fiscal code is ever stored).
type Reject struct {
	File   string // path of the file as given on the command line
	Line   int64  // 1-based physical line of the row's start (the header is line 1)
	Column string // the offending column, empty for a whole-row problem
	Reason Reason
	Detail string // the offending value or a short explanation
	Raw    string
}
