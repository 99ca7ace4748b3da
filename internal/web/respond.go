package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/regione-lombardia/oml"
)

// Media types the API answers with besides the download formats.
const (
	mediaJSON  = "application/json; charset=utf-8"
	mediaOctet = "application/octet-stream"
)

// Cache lifetimes. What a release says never changes, so a response that
// names its release explicitly may be kept for a year; a response about
// "the latest release" changes when a new one is published.
const (
	maxAgeImmutable = 365 * 24 * time.Hour
	maxAgeLatest    = 5 * time.Minute
	maxAgeStatic    = time.Hour // catalogue of the software, territories
)

// StatusOf returns the HTTP status of an error code. It is the only place
// that maps the codes of oml.Error to statuses.
//
// ETOOLARGE is 400 Bad Request, not 413: 413 speaks of the request's own
// content, and a GET that asks for too many rows has none; the code in the
// body ("too_large") and the hint tell the caller what to narrow.
func StatusOf(code string) int {
	switch code {
	case oml.EINVALID, oml.ETOOLARGE:
		return http.StatusBadRequest
	case oml.ENOTFOUND:
		return http.StatusNotFound
	case oml.ECONFLICT:
		return http.StatusConflict
	case oml.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case oml.EFORBIDDEN:
		return http.StatusForbidden
	case oml.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	case oml.ETOOMANY:
		return http.StatusTooManyRequests
	}
	return http.StatusInternalServerError // EINTEGRITY, EINTERNAL and anything else
}

// errorBody is the JSON of every error response:
// {"error":{"code":"invalid","message":"...","hint":"..."}}.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Hint    string `json:"hint,omitempty"`
}

// writeError writes err as the API's error body. The caller sees the
// message and hint of an *oml.Error and a generic message for anything
// else; the full error goes to the log when it is the server's fault.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	s.writeErrorStatus(w, r, StatusOf(oml.ErrorCode(err)), err)
}

// writeErrorStatus is writeError with the status given, for the one
// status no code maps to (405).
func (s *Server) writeErrorStatus(w http.ResponseWriter, r *http.Request, status int, err error) {
	code := oml.ErrorCode(err)
	if status >= 500 {
		s.log.LogAttrs(r.Context(), slog.LevelError, "api error",
			slog.String("id", RequestID(r)), slog.String("method", r.Method), slog.String("uri", s.logURI(r)), slog.String("err", err.Error()))
	}
	b, _ := json.Marshal(errorBody{errorDetail{Code: code, Message: oml.ErrorMessage(err), Hint: oml.ErrorHint(err)}})
	h := w.Header()
	for _, k := range []string{"ETag", "Content-Disposition", "Content-Encoding", "Last-Modified"} {
		h.Del(k)
	}
	h.Set("Content-Type", mediaJSON)
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// reply is what a handler answers: a body (given, or rendered on demand)
// with its metadata. serve turns it into the HTTP response, in one place:
// validators, caching, compression.
type reply struct {
	contentType string
	body        []byte
	// render writes the body when body is nil. It is called only if the
	// client's cached copy is stale, and writes into a buffer, so that an
	// error (a query over the row limit, a fault) is still a clean error
	// response.
	render func(w io.Writer) error
	// etag is the strong validator of the body without its quotes; when
	// empty, serve derives it from the body.
	etag string
	// immutable marks a response that names its release explicitly;
	// maxAge is the lifetime of any other.
	immutable bool
	maxAge    time.Duration
	header    http.Header // more headers, set on 200 and 304 alike
	// varyAccept says the body depends on the Accept header.
	varyAccept bool
	// file, when set, is the body: a file made for this one response,
	// sent and then removed with its directory fileDir (microdata).
	file, fileDir string
}

// jsonReply returns a reply holding v as JSON.
func jsonReply(v any) (*reply, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return &reply{contentType: mediaJSON, body: buf.Bytes()}, nil
}

// compressible reports whether a body of media type ct is worth gzipping:
// text and JSON are; XLSX already is a zip archive and the signature and
// key are a few random bytes.
func compressible(ct string) bool {
	mt, _, _ := mime.ParseMediaType(ct)
	return strings.HasPrefix(mt, "text/") || strings.HasSuffix(mt, "json") || strings.HasSuffix(mt, "+csv")
}

// acceptsGzip reports whether the request's Accept-Encoding admits gzip.
func acceptsGzip(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept-Encoding") {
		for _, part := range strings.Split(v, ",") {
			name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			name = strings.ToLower(strings.TrimSpace(name))
			if name != "gzip" && name != "x-gzip" && name != "*" {
				continue
			}
			if q, ok := strings.CutPrefix(strings.ReplaceAll(params, " ", ""), "q="); ok {
				if f, err := strconv.ParseFloat(q, 64); err == nil && f == 0 {
					return false
				}
			}
			return true
		}
	}
	return false
}

// etagMatch reports whether an If-None-Match header value lists tag (a
// quoted entity tag), by the weak comparison RFC 9110 prescribes for it.
func etagMatch(header, tag string) bool {
	if header == "" {
		return false
	}
	if strings.TrimSpace(header) == "*" {
		return true
	}
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == tag {
			return true
		}
	}
	return false
}

// hashTag returns an entity tag for the given parts: the first 128 bits of
// their sha256, in hex.
func hashTag(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		io.WriteString(h, p)
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// bufPool recycles the buffers responses are rendered into.
var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func getBuffer() *bytes.Buffer {
	b := bufPool.Get().(*bytes.Buffer)
	b.Reset()
	return b
}

// putBuffer returns b to the pool unless it grew past 16 MB, which a rare
// large download should not pin in memory.
func putBuffer(b *bytes.Buffer) {
	if b.Cap() <= 16<<20 {
		bufPool.Put(b)
	}
}

var gzipPool = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)
	return w
}}

// serve writes rp as the response to r: the entity tag (with "-gz" when
// the body is gzipped, since the bytes differ), Cache-Control, Vary, a
// 304 when If-None-Match lists the tag, otherwise the rendered body,
// gzipped when the client accepts it and the media type compresses.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, rp *reply) {
	if rp.file != "" {
		s.serveReplyFile(w, r, rp)
		return
	}
	h := w.Header()
	for k, v := range rp.header {
		h[http.CanonicalHeaderKey(k)] = v
	}
	gz := compressible(rp.contentType) && acceptsGzip(r)
	var vary []string
	if compressible(rp.contentType) {
		vary = append(vary, "Accept-Encoding")
	}
	if rp.varyAccept {
		vary = append(vary, "Accept")
	}
	if len(vary) > 0 {
		h.Set("Vary", strings.Join(vary, ", "))
	}
	switch {
	case rp.immutable:
		h.Set("Cache-Control", "public, max-age="+strconv.Itoa(int(maxAgeImmutable.Seconds()))+", immutable")
	case rp.maxAge > 0:
		h.Set("Cache-Control", "public, max-age="+strconv.Itoa(int(rp.maxAge.Seconds())))
	default:
		h.Set("Cache-Control", "no-cache")
	}

	tag := func(base string) string {
		if gz {
			base += "-gz"
		}
		return `"` + base + `"`
	}
	if rp.etag != "" {
		t := tag(rp.etag)
		h.Set("ETag", t)
		if etagMatch(r.Header.Get("If-None-Match"), t) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}

	body := rp.body
	if body == nil && rp.render != nil {
		buf := getBuffer()
		defer putBuffer(buf)
		if err := rp.render(buf); err != nil {
			s.writeError(w, r, err)
			return
		}
		body = buf.Bytes()
	}
	if rp.etag == "" {
		sum := sha256.Sum256(body)
		t := tag(hex.EncodeToString(sum[:16]))
		h.Set("ETag", t)
		if etagMatch(r.Header.Get("If-None-Match"), t) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}

	h.Set("Content-Type", rp.contentType)
	if gz {
		zbuf := getBuffer()
		defer putBuffer(zbuf)
		zw := gzipPool.Get().(*gzip.Writer)
		zw.Reset(zbuf)
		zw.Write(body)
		err := zw.Close()
		gzipPool.Put(zw)
		if err != nil {
			s.writeError(w, r, errors.Join(errors.New("gzip"), err))
			return
		}
		body = zbuf.Bytes()
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}
