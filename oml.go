// Package oml holds the domain of the Lombardy labour-market observatories
// platform: communications of the Comunicazioni Obbligatorie (CO), the
// territories they are counted in, the reasons a communication is rejected
// and the error type every layer returns.
//
// The package depends on the standard library only. Storage (internal/duckdb),
// decoding (internal/cofile), code lists (internal/classif) and the command
// line (cmd/oml) are built around it.
package oml

// Version is the version of the oml software. The methodology has its own
// version, stamped on every published figure.
const Version = "0.1.0"

// FirstEventYear is the first year of event dates accepted on ingest: the CO
// system went online nationally in 2008, so earlier dates are errors.
const FirstEventYear = 2008
