package oml_test

import (
	"testing"

	"github.com/regione-lombardia/oml"
)

func TestValidFiscalCode(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"RSSMRA85T10A562S", true},  // textbook example
		{"RSSMRA85T10A562T", false}, // wrong check letter
		{"RSSMRA85T10A56NH", true},  // homocodic variant of the same person
		{"RSSMRA85T10A562", false},  // too short
		{"rssmra85t10a562s", false}, // callers upper-case first
		{"1SSMRA85T10A562S", false},
		{"RSSMRA8XT10A562S", false}, // X is not a homocodic letter
	}
	for _, tt := range tests {
		if got := oml.ValidFiscalCode(tt.in); got != tt.want {
			t.Errorf("ValidFiscalCode(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestValidVATNumber(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"00459980124", true},  // Comune di Agra, from the ISTAT comuni list
		{"82006930125", true},  // Comune di Albizzate
		{"00459980125", false}, // wrong check digit
		{"0045998012", false},
		{"0045998012A", false},
	}
	for _, tt := range tests {
		if got := oml.ValidVATNumber(tt.in); got != tt.want {
			t.Errorf("ValidVATNumber(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestEmployerCode(t *testing.T) {
	if !oml.ValidEmployerCode("RSSMRA85T10A562S") || !oml.ValidEmployerCode("00459980124") {
		t.Fatal("a fiscal code and a VAT number both identify an employer")
	}
	if oml.ValidEmployerCode("") {
		t.Fatal("empty code accepted")
	}
}
