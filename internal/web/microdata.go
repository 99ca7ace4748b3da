package web

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/duckdb"
	"github.com/regione-lombardia/oml/internal/federation"
	"github.com/regione-lombardia/oml/internal/metastore"
)

// Media types of the microdata.
const (
	mediaCSV     = "text/csv; charset=utf-8"
	mediaParquet = "application/vnd.apache.parquet"
)

// handleMicrodata answers GET /api/v1/microdata?territory=&from=&to=&format=:
// the pseudonymised communications of a territory (a province, or ITC4 for
// the region), to an analyst of that territory (or of the region) only:
// 401 without credentials, 403 for another territory. The read is written
// to the audit log with its row count before a byte is sent; if the log
// cannot be written nothing is sent. The body is made from the data bank,
// not from a release: the data bank is opened read-only for the time of
// the export (an ingest under way makes it 503, to retry).
func (s *Server) handleMicrodata(r *request) (*reply, error) {
	v := viewerOf(r.Request)
	if s.access == nil {
		return nil, oml.Errorf(oml.ENOTFOUND, "questo server non serve microdati / no microdata on this server").
			WithHint("i microdati sono dati dagli osservatori con account: oml user add, oml token create")
	}
	if !v.authenticated() {
		return nil, oml.Errorf(oml.EUNAUTHORIZED, "i microdati sono riservati: serve un'identificazione / microdata require authentication").
			WithHint("inviare Authorization: Bearer oml_... (un token creato con oml token create --role analyst:TERRITORIO) oppure accedere al portale da /accedi")
	}
	terr := strings.ToUpper(strings.TrimSpace(r.Get("territory")))
	if t, ok := s.names.Territory(terr); !ok || (t.Level != oml.LevelProvince && terr != oml.RegionCode) {
		return nil, oml.Errorf(oml.EINVALID, "territorio %q non valido per i microdati / invalid territory for microdata", terr).
			WithHint("una provincia (codice ISTAT di 3 cifre, per esempio 016) oppure %s per la regione", oml.RegionCode)
	}
	if !v.roles.CanReadMicrodata(terr) {
		return nil, oml.Errorf(oml.EFORBIDDEN, "i ruoli %s non danno accesso ai microdati di %s / roles give no access to the microdata of %s", rolesOrPublic(v.roles), terr, terr).
			WithHint("un analista legge i microdati del proprio territorio (analyst:%s); un analista della regione (analyst:%s) di tutti", terr, oml.RegionCode)
	}
	from, err := monthParam(r, "from")
	if err != nil {
		return nil, err
	}
	to, err := monthParam(r, "to")
	if err != nil {
		return nil, err
	}
	if !from.IsZero() && !to.IsZero() && to.Before(from) {
		return nil, oml.Errorf(oml.EINVALID, "il mese to (%s) viene prima del mese from (%s) / to is before from", to.Format("2006-01"), from.Format("2006-01"))
	}
	format, err := r.Enum("format")
	if err != nil {
		return nil, err
	}
	f := duckdb.MicrodataFilter{From: from, To: to}
	if terr != oml.RegionCode {
		f.Province, f.Comuni = terr, federation.ComuniOf(s.lists, terr)
	}
	ctx := r.Context()
	db, err := duckdb.Open(ctx, s.dataDir, duckdb.Options{ReadOnly: true})
	if oml.ErrorCode(err) == oml.ECONFLICT { // another process (an ingest) holds the data bank
		return nil, oml.Errorf(oml.EUNAVAILABLE, "banca dati occupata da un caricamento / data bank busy with an ingest").
			WithHint("riprovare tra qualche minuto")
	}
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(s.dataDir, "tmp")
	tmp, err := os.MkdirTemp(dir, "microdata-")
	if err != nil {
		db.Close()
		return nil, err
	}
	path := filepath.Join(tmp, "microdati."+format)
	n, err := db.ExportMicrodata(ctx, f, format, path)
	db.Close()
	if err == nil {
		detail := "format=" + format
		if !from.IsZero() {
			detail += " from=" + from.Format("2006-01")
		}
		if !to.IsZero() {
			detail += " to=" + to.Format("2006-01")
		}
		err = s.audit(r.Request, metastore.Entry{Action: metastore.ActionMicrodataRead, Object: terr, Rows: n, Detail: detail})
	}
	if err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	name := "oml-microdati-" + terr
	if !from.IsZero() {
		name += "-" + from.Format("200601")
	}
	if !to.IsZero() {
		name += "-" + to.Format("200601")
	}
	ct := mediaCSV
	if format == duckdb.MicrodataParquet {
		ct = mediaParquet
	}
	return &reply{contentType: ct, file: path, fileDir: tmp, header: http.Header{
		"Content-Disposition": {mime.FormatMediaType("attachment", map[string]string{"filename": name + "." + format})},
		"X-OML-Rows":          {strconv.FormatInt(n, 10)},
	}}, nil
}

// rolesOrPublic names roles in a message.
func rolesOrPublic(rs oml.Roles) string {
	if len(rs) == 0 {
		return "public"
	}
	return rs.String()
}

// monthParam reads a YYYY-MM parameter as the first day of its month (the
// export's filter reads both bounds as whole months). Absent is the zero
// time.
func monthParam(r *request, name string) (time.Time, error) {
	s := r.Get(name)
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse("2006-01", s)
	if err != nil {
		return time.Time{}, oml.Errorf(oml.EINVALID, "%s=%q non è un mese / is not a month", name, s).WithHint("formato AAAA-MM, per esempio 2024-01")
	}
	return t, nil
}

// serveReplyFile sends the file of rp and removes its directory: the
// microdata are written once for one reader and never kept.
func (s *Server) serveReplyFile(w http.ResponseWriter, r *http.Request, rp *reply) {
	defer os.RemoveAll(rp.fileDir)
	f, err := os.Open(rp.file)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	h := w.Header()
	for k, v := range rp.header {
		h[http.CanonicalHeaderKey(k)] = v
	}
	h.Set("Content-Type", rp.contentType)
	h.Set("Cache-Control", "private, no-store")
	h.Set("Content-Length", strconv.FormatInt(fi.Size(), 10))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	if _, err := io.Copy(w, f); err != nil && !errors.Is(err, http.ErrHandlerTimeout) {
		s.log.Info("microdata transfer interrupted", "id", RequestID(r), "err", err.Error())
	}
}
