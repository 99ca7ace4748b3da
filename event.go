package oml

import "time"

// EventType is the kind of a CO communication.
type EventType byte

// The event types of a communication. A, C, P and T are events on an
// employment relationship; X and R act on an earlier communication.
const (
	Attivazione    EventType = 'A' // hire: the relationship starts on the event date
	Cessazione     EventType = 'C' // termination: the event date is the last day worked
	Proroga        EventType = 'P' // extension: a new planned end date
	Trasformazione EventType = 'T' // transformation, e.g. fixed-term to permanent
	Annullamento   EventType = 'X' // cancels the communication it refers to
	Rettifica      EventType = 'R' // replaces the communication it refers to, all fields restated
	noEventType    EventType = 0
)

// ParseEventType returns the event type of a one-letter code (any case).
func ParseEventType(s string) (EventType, bool) {
	if len(s) != 1 {
		return noEventType, false
	}
	switch t := EventType(s[0] &^ 0x20); t {
	case Attivazione, Cessazione, Proroga, Trasformazione, Annullamento, Rettifica:
		return t, true
	}
	return noEventType, false
}

// String returns the one-letter code.
func (t EventType) String() string { return string(rune(t)) }

// IsFlow reports whether t is an event on a relationship (A, C, P, T), as
// opposed to an act on another communication (X, R).
func (t EventType) IsFlow() bool {
	return t == Attivazione || t == Cessazione || t == Proroga || t == Trasformazione
}

// Event is one communication after decoding and validation: codes are
// canonical (ISTAT comune codes, ATECO and CP2011 with dots), identifiers of
// people and employers are pseudonyms, never fiscal codes.
//
// Events decoded from the Region's open-data files carry no identifiers
// (CommID, RelID, Worker and Employer are empty), no comune (only the
// province) and an age instead of a birth year.
type Event struct {
	CommID string    // id_comunicazione; empty for open data
	Type   EventType // tipo_evento
	RefID  string    // rif_comunicazione, for X and R
	RelID  string    // id_rapporto; empty for open data
	Date   time.Time // data_evento (UTC midnight); zero for X

	Worker   string // pseudonym of cf_lavoratore
	Employer string // pseudonym of cf_datore

	Gender      byte   // 'M' or 'F'
	BirthYear   int    // 0 when unknown (open data)
	Age         int    // age in years at the event date
	Citizenship string // ANPAL cod_cittadinanza, "000" Italy
	Education   int    // ANPAL cod_livellostudio 0-12, -1 unknown

	WorkComune     string // ISTAT 6-digit code of the workplace; empty for open data
	WorkProvince   string // historical ISTAT province code of the workplace ("015" Milano)
	ResComune      string // ISTAT code of the residence, empty when unknown
	ResProvince    string // province of residence, empty when unknown
	Ateco          string // ATECO 2007 code at the level given ("56.10.11", "56.10", "56")
	Profession     string // CP2011 code at the level given, empty when unknown
	Contract       string // MLPS contract type ("A.02.00")
	WorkingTime    byte   // 'F', 'P', 'V', 'M', 0 unknown
	PlannedEnd     time.Time
	Transformation string // tipo_trasformazione, for T
	EndReason      string // motivo_cessazione, for C
	ProtectedCat   byte   // 'S', 'N', 0 unknown
}

// Transformation kinds (tipo_trasformazione).
const (
	TransfTDTI  = "TD_TI" // fixed-term to permanent
	TransfAPTI  = "AP_TI" // apprenticeship to permanent
	TransfPTFT  = "PT_FT" // part-time to full-time
	TransfFTPT  = "FT_PT" // full-time to part-time
	TransfOther = "ALTRO"
)

// TransformationKinds lists the valid tipo_trasformazione codes.
var TransformationKinds = []string{TransfTDTI, TransfAPTI, TransfPTFT, TransfFTPT, TransfOther}

// End reasons (motivo_cessazione).
const (
	EndResignation = "DIMISSIONI"
	EndDismissal   = "LICENZIAMENTO"
	EndTerm        = "FINE_TERMINE"
	EndRetirement  = "PENSIONAMENTO"
	EndOther       = "ALTRO"
)

// EndReasons lists the valid motivo_cessazione codes.
var EndReasons = []string{EndResignation, EndDismissal, EndTerm, EndRetirement, EndOther}

// ContractGroup is the grouping of MLPS contract types used by the
// methodology's contract dimension.
type ContractGroup string

// Contract groups.
const (
	GroupPermanent       ContractGroup = "tempo_indeterminato"
	GroupFixedTerm       ContractGroup = "tempo_determinato"
	GroupApprenticeship  ContractGroup = "apprendistato"
	GroupTempAgency      ContractGroup = "somministrazione"
	GroupIntermittent    ContractGroup = "intermittente"
	GroupDomestic        ContractGroup = "domestico"
	GroupParasubordinate ContractGroup = "parasubordinato"
	GroupOther           ContractGroup = "altro"
)
