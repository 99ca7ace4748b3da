package metastore

import (
	"context"
	"testing"
	"time"

	"github.com/regione-lombardia/oml"
)

// BenchmarkPasswordHash is the cost of one login (and of one account
// created) with the production parameters: ADR 0012 quotes it.
func BenchmarkPasswordHash(b *testing.B) {
	for b.Loop() {
		if _, err := hashPassword("correct horse battery", DefaultPasswordParams); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLookupToken is what every API request with a bearer token
// costs (a read; the use is recorded once a minute).
func BenchmarkLookupToken(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	secret, _, err := s.CreateToken(ctx, oml.Role{Kind: oml.RoleAdmin}, "", time.Now().Add(time.Hour))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := s.LookupToken(ctx, secret); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppend is one audit entry, one durable transaction
// (synchronous=FULL).
func BenchmarkAppend(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	for b.Loop() {
		if _, err := s.Append(ctx, Entry{Action: ActionMicrodataRead, Object: "016", Rows: 1000}); err != nil {
			b.Fatal(err)
		}
	}
}
