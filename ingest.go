package oml

// IngestReport is the outcome of one run of `oml ingest`, printed by
// `oml ingest --json` exactly as INTERFACE.md section 3 specifies. For every
// file and for the total, Read = Accepted + Rejected + Duplicates.
type IngestReport struct {
	Files            []FileReport     `json:"files"`
	Read             int64            `json:"read"`
	Accepted         int64            `json:"accepted"`
	Rejected         int64            `json:"rejected"`
	Duplicates       int64            `json:"duplicates"`
	RejectedByReason map[Reason]int64 `json:"rejected_by_reason"`
}

// FileReport is the outcome of one file. A file whose sha256 was already
// ingested is not read again: AlreadyIngested is true and its counts are 0.
type FileReport struct {
	Path             string           `json:"path"`
	SHA256           string           `json:"sha256"`
	Read             int64            `json:"read"`
	Accepted         int64            `json:"accepted"`
	Rejected         int64            `json:"rejected"`
	Duplicates       int64            `json:"duplicates"`
	AlreadyIngested  bool             `json:"already_ingested,omitempty"`
	RejectedByReason map[Reason]int64 `json:"rejected_by_reason,omitempty"`
	Warnings         []string         `json:"warnings,omitempty"`
}

// Add adds a file's counts to the report's totals.
func (r *IngestReport) Add(f FileReport) {
	r.Files = append(r.Files, f)
	r.Read += f.Read
	r.Accepted += f.Accepted
	r.Rejected += f.Rejected
	r.Duplicates += f.Duplicates
	if r.RejectedByReason == nil {
		r.RejectedByReason = map[Reason]int64{}
	}
	for k, v := range f.RejectedByReason {
		r.RejectedByReason[k] += v
	}
}
