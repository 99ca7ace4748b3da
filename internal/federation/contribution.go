package federation

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/analysis"
	"github.com/regione-lombardia/oml/internal/local"
	"github.com/regione-lombardia/oml/internal/report"
)

// Kinds of contribution a node sends to the hub.
const (
	KindIntro    = "introduzione" // the introduction of its chapter of the territorial report
	KindAnalysis = "analisi"      // an analysis in Markdown
	KindDataset  = "dati"         // a local data set: CSV with its metadata
)

// Statuses of a contribution.
const (
	StatusPending  = "in_revisione"
	StatusApproved = "approvato"
	StatusRejected = "respinto"
)

// MaxContribution is the largest contribution accepted, in bytes.
const MaxContribution = 8 << 20

const contributionsDir = "federation/contributions"

// DatasetMeta describes a local data set (see internal/local).
type DatasetMeta = local.DatasetMeta

// Submission is what a node sends.
type Submission struct {
	Kind     string       `json:"kind"`
	Title    string       `json:"title"`
	File     string       `json:"file"`
	Content  []byte       `json:"content"`
	Metadata *DatasetMeta `json:"metadata,omitempty"`
}

// Contribution is a submission as the hub keeps it.
type Contribution struct {
	ID        string       `json:"id"`
	Kind      string       `json:"kind"`
	Territory string       `json:"territory"`
	Author    string       `json:"author"` // the token's role and id
	Title     string       `json:"title"`
	File      string       `json:"file"`
	Bytes     int          `json:"bytes"`
	Received  time.Time    `json:"received"`
	Status    string       `json:"status"`
	Reviewed  time.Time    `json:"reviewed,omitzero"`
	Reason    string       `json:"reason,omitempty"`
	Metadata  *DatasetMeta `json:"metadata,omitempty"`
}

// check validates a submission.
func (s *Submission) check() error {
	bad := func(it, en string) *oml.Error {
		return oml.Errorf(oml.EINVALID, "contributo non valido: %s / invalid contribution: %s", it, en)
	}
	switch s.Kind {
	case KindIntro, KindAnalysis, KindDataset:
	default:
		return bad(fmt.Sprintf("tipo %q", s.Kind), "kind").WithHint("introduzione, analisi o dati")
	}
	if len(s.Content) == 0 || len(s.Content) > MaxContribution {
		return bad("vuoto o oltre 8 MiB", "empty or over 8 MiB")
	}
	if !utf8.Valid(s.Content) {
		return bad("il testo non è UTF-8", "not UTF-8")
	}
	if s.Title = strings.TrimSpace(s.Title); s.Title == "" || len(s.Title) > 200 {
		return bad("titolo mancante o troppo lungo", "title missing or too long")
	}
	s.File = filepath.Base(s.File)
	if s.Kind == KindAnalysis {
		_, err := analysis.Charts(s.Content)
		return err
	}
	if s.Kind != KindDataset {
		return nil
	}
	if s.Metadata == nil {
		return bad("i dati richiedono i metadati con fonte e licenza", "a data set needs metadata with source and licence")
	}
	if s.Metadata.Title == "" {
		s.Metadata.Title = s.Title
	}
	_, err := s.Metadata.Check(s.Content)
	return err
}

// Submit stores a node's submission for review and returns it.
func (h *Hub) Submit(tok Token, s Submission, now time.Time) (Contribution, error) {
	if err := s.check(); err != nil {
		return Contribution{}, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	root := filepath.Join(h.dir, contributionsDir)
	if err := os.MkdirAll(root, 0o700); err != nil {
		return Contribution{}, err
	}
	entries, _ := os.ReadDir(root)
	c := Contribution{ID: fmt.Sprintf("%04d-%s", len(entries)+1, tok.Territory), Kind: s.Kind, Territory: tok.Territory,
		Author: tok.Role + " (token " + tok.ID + ")", Title: s.Title, File: s.File, Bytes: len(s.Content),
		Received: now.UTC().Truncate(time.Second), Status: StatusPending, Metadata: s.Metadata}
	tmp, err := os.MkdirTemp(root, ".tmp-")
	if err != nil {
		return Contribution{}, err
	}
	defer os.RemoveAll(tmp)
	if err := os.WriteFile(filepath.Join(tmp, "contenuto"), s.Content, 0o600); err != nil {
		return Contribution{}, err
	}
	if err := writeJSON(filepath.Join(tmp, "contributo.json"), c); err != nil {
		return Contribution{}, err
	}
	if err := os.Rename(tmp, filepath.Join(root, c.ID)); err != nil {
		return Contribution{}, err
	}
	return c, nil
}

// Contributions lists the contributions with a status ("" for all), the
// newest first.
func (h *Hub) Contributions(status string) ([]Contribution, error) {
	entries, err := os.ReadDir(filepath.Join(h.dir, contributionsDir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Contribution
	for i := len(entries) - 1; i >= 0; i-- {
		if strings.HasPrefix(entries[i].Name(), ".") {
			continue
		}
		c, _, err := h.Contribution(entries[i].Name())
		if err != nil {
			return nil, err
		}
		if status == "" || c.Status == status {
			out = append(out, c)
		}
	}
	return out, nil
}

// Contribution returns a contribution and its content as published: for
// an approved data set, with disclosure control applied.
func (h *Hub) Contribution(id string) (Contribution, []byte, error) {
	if id == "" || strings.ContainsAny(id, `/\`) || strings.HasPrefix(id, ".") {
		return Contribution{}, nil, notFoundContribution(id)
	}
	dir := filepath.Join(h.dir, contributionsDir, id)
	b, err := os.ReadFile(filepath.Join(dir, "contributo.json"))
	if err != nil {
		return Contribution{}, nil, notFoundContribution(id)
	}
	var c Contribution
	if err := json.Unmarshal(b, &c); err != nil {
		return Contribution{}, nil, err
	}
	name := "contenuto"
	if c.Kind == KindDataset && c.Status == StatusApproved {
		name = "pubblicato.csv"
	}
	content, err := os.ReadFile(filepath.Join(dir, name))
	return c, content, err
}

func notFoundContribution(id string) error {
	return oml.Errorf(oml.ENOTFOUND, "contributo %q inesistente / no such contribution", id).WithHint("oml contributions list li elenca")
}

// Review approves or rejects a pending contribution. Approving an
// introduction stores it as a new version of the chapter's introduction;
// approving a data set publishes a copy whose count columns have every
// value from 1 to k-1 withheld ("c"), whatever the node sent.
func (h *Hub) Review(id string, approve bool, reason string, k int, now time.Time) (Contribution, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	c, content, err := h.Contribution(id)
	if err != nil {
		return c, err
	}
	if c.Status != StatusPending {
		return c, oml.Errorf(oml.ECONFLICT, "il contributo %s è già %s / already reviewed", id, c.Status)
	}
	dir := filepath.Join(h.dir, contributionsDir, id)
	c.Reviewed, c.Status, c.Reason = now.UTC().Truncate(time.Second), StatusRejected, reason
	if approve {
		c.Status = StatusApproved
		switch c.Kind {
		case KindIntro:
			if _, err := report.SaveIntro(h.dir, c.Territory, string(content)); err != nil {
				return c, err
			}
		case KindDataset:
			pub, withheld, err := discloseCSV(content, c.Metadata.Counts, k)
			if err != nil {
				return c, err
			}
			if err := os.WriteFile(filepath.Join(dir, "pubblicato.csv"), pub, 0o600); err != nil {
				return c, err
			}
			if withheld > 0 {
				c.Reason = fmt.Sprintf("%d valori sotto %d riservati (c) dall'hub", withheld, k)
			}
		}
	}
	return c, writeJSON(filepath.Join(dir, "contributo.json"), c)
}

// discloseCSV withholds the values of count columns from 1 to k-1.
func discloseCSV(content []byte, counts []string, k int) ([]byte, int, error) {
	rows, err := csv.NewReader(bytes.NewReader(content)).ReadAll()
	if err != nil {
		return nil, 0, err
	}
	withheld := local.Disclose(rows, counts, k)
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.WriteAll(rows)
	return b.Bytes(), withheld, w.Error()
}

// Contribute sends a contribution to the hub.
func (n *Node) Contribute(ctx context.Context, s Submission) (Contribution, error) {
	if err := s.check(); err != nil {
		return Contribution{}, err
	}
	body, _ := json.Marshal(s)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.cfg.Hub+hubPrefix+"/contributions", bytes.NewReader(body))
	if err != nil {
		return Contribution{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	n.cred.Sign(req, body, n.now())
	resp, err := n.client.Do(req)
	if err != nil {
		return Contribution{}, oml.Errorf(oml.EUNAVAILABLE, "hub %s non raggiungibile / hub unreachable", n.cfg.Hub).WithHint("riprovare più tardi (%v)", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusCreated {
		return Contribution{}, hubError(resp, b)
	}
	var c Contribution
	return c, json.Unmarshal(b, &c)
}
