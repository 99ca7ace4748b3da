package oml

import (
	"slices"
	"strings"
)

// Role kinds. A person or an API token holds one or more roles; a node of
// the federation holds exactly one node role.
const (
	RolePublic  = "public"  // anyone: published, disclosed figures only
	RoleAnalyst = "analyst" // an observatory's analyst: microdata of a territory, embargoed releases
	RoleEditor  = "editor"  // writes a territory's articles and agenda, sees embargoed releases
	RoleAdmin   = "admin"   // manages accounts, tokens and the release agenda; sees embargoed releases
	RoleNode    = "node"    // a provincial node of the federation
)

// Role is what an account or a token may do, and where. Kind is one of
// the Role* constants; Territory is the province's ISTAT code ("016") or
// RegionCode ("ITC4") for analyst and editor, a province for node, and
// empty for public and admin. The zero Role is not valid: use ParseRole
// or Validate.
type Role struct {
	Kind      string
	Territory string
}

// ParseRole reads a role as written on the command line and stored:
// "public", "admin", "analyst:016", "editor:ITC4", "node:014". The kind is
// case-insensitive, the territory is upper-cased ("itc4" is the region).
// It checks the form of the territory code, not that the province exists:
// callers that hold the code lists (cmd/oml) check that. Errors are
// EINVALID with a hint listing the forms.
func ParseRole(s string) (Role, error) {
	kind, terr, _ := strings.Cut(strings.TrimSpace(s), ":")
	r := Role{Kind: strings.ToLower(strings.TrimSpace(kind)), Territory: strings.ToUpper(strings.TrimSpace(terr))}
	if err := r.Validate(); err != nil {
		return Role{}, err
	}
	return r, nil
}

// Validate reports whether r is a role oml knows, as an EINVALID *Error.
func (r Role) Validate() error {
	bad := func(why, whyEN string) error {
		return Errorf(EINVALID, "ruolo %q non valido: %s / invalid role: %s", r.String(), why, whyEN).
			WithHint("ruoli: public, admin, analyst:TERRITORIO, editor:TERRITORIO, node:PROVINCIA; TERRITORIO è il codice ISTAT " +
				"della provincia (analyst:016 Bergamo) oppure " + RegionCode + " per la Lombardia (editor:" + RegionCode + ")")
	}
	switch r.Kind {
	case RolePublic, RoleAdmin:
		if r.Territory != "" {
			return bad(r.Kind+" non ha territorio", r.Kind+" takes no territory")
		}
	case RoleAnalyst, RoleEditor:
		if r.Territory == "" {
			return bad("manca il territorio", "territory missing")
		}
		if r.Territory == "LOM" || r.Territory == "LOMBARDIA" || r.Territory == "03" {
			return bad("la Lombardia si scrive "+RegionCode+", il codice dei territori dell'API", "Lombardy is "+RegionCode+", the API's territory code")
		}
		if r.Territory != RegionCode && !isProvinceCode(r.Territory) {
			return bad("territorio "+r.Territory+" sconosciuto (provincia di 3 cifre ISTAT o "+RegionCode+")",
				"territory must be a 3-digit ISTAT province or "+RegionCode)
		}
	case RoleNode:
		if !isProvinceCode(r.Territory) {
			return bad("un nodo è una provincia (3 cifre ISTAT)", "a node is a province (3 ISTAT digits)")
		}
	case "":
		return bad("ruolo vuoto", "empty role")
	default:
		return bad("tipo "+r.Kind+" sconosciuto", "unknown kind "+r.Kind)
	}
	return nil
}

// isProvinceCode reports whether s has the form of an ISTAT province code.
func isProvinceCode(s string) bool {
	return len(s) == 3 && strings.Trim(s, "0123456789") == ""
}

// String returns the role as ParseRole reads it.
func (r Role) String() string {
	if r.Territory == "" {
		return r.Kind
	}
	return r.Kind + ":" + r.Territory
}

// MarshalText writes the role as String does, so roles are plain strings
// in JSON.
func (r Role) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText reads a role as ParseRole does.
func (r *Role) UnmarshalText(b []byte) error {
	p, err := ParseRole(string(b))
	if err != nil {
		return err
	}
	*r = p
	return nil
}

// Regional reports whether r covers the whole region (a territory of
// RegionCode).
func (r Role) Regional() bool { return r.Territory == RegionCode }

// IsAdmin reports whether r administers accounts, tokens and the agenda.
func (r Role) IsAdmin() bool { return r.Kind == RoleAdmin }

// SeesEmbargoed reports whether r may read a release before its embargo
// ends: analysts, editors and administrators, of any territory (the
// figures of a release are published for every territory at once). The
// public and the federation's nodes may not.
func (r Role) SeesEmbargoed() bool {
	return r.Kind == RoleAnalyst || r.Kind == RoleEditor || r.Kind == RoleAdmin
}

// CanReadMicrodata reports whether r may read the pseudonymised microdata
// of territory, which must be a province code or RegionCode: callers
// resolve a comune or a CPI to its province first, and any other code is
// refused. An analyst reads its own province; an analyst of the region
// reads every province and the whole region. A node reads its own
// province, whose extract the federation already gives it. Administrators
// and editors do not: managing accounts or writing articles needs no
// personal data (GDPR data minimisation), and an administrator who is also
// an analyst holds both roles.
func (r Role) CanReadMicrodata(territory string) bool {
	if territory != RegionCode && !isProvinceCode(territory) {
		return false
	}
	switch r.Kind {
	case RoleAnalyst:
		return r.Territory == territory || r.Regional()
	case RoleNode:
		return r.Territory == territory
	}
	return false
}

// CanEdit reports whether r may write the articles and agenda of
// territory (a province code or RegionCode): an editor of that territory,
// an editor of the region for any territory, and administrators.
func (r Role) CanEdit(territory string) bool {
	switch r.Kind {
	case RoleAdmin:
		return true
	case RoleEditor:
		return r.Territory == territory || r.Regional()
	}
	return false
}

// Roles are the roles of one account. Each question is answered yes when
// any of the roles answers yes; no roles is the public.
type Roles []Role

// ParseRoles reads comma-separated roles ("analyst:016,editor:016"),
// dropping duplicates and sorting them, as ParseRole reads each. An empty
// string is no roles.
func ParseRoles(s string) (Roles, error) {
	var rs Roles
	for _, f := range strings.Split(s, ",") {
		if strings.TrimSpace(f) == "" {
			continue
		}
		r, err := ParseRole(f)
		if err != nil {
			return nil, err
		}
		rs = append(rs, r)
	}
	return rs.normal(), nil
}

// normal returns rs sorted by kind and territory, without duplicates.
func (rs Roles) normal() Roles {
	rs = slices.Clone(rs)
	slices.SortFunc(rs, func(a, b Role) int { return strings.Compare(a.String(), b.String()) })
	return slices.Compact(rs)
}

// Validate checks every role, and that a node role stands alone: a node
// is a machine of the federation, not a person with other duties.
func (rs Roles) Validate() error {
	for _, r := range rs {
		if err := r.Validate(); err != nil {
			return err
		}
		if r.Kind == RoleNode && len(rs) > 1 {
			return Errorf(EINVALID, "il ruolo %s non si combina con altri / a node role stands alone", r).
				WithHint("i nodi della federazione hanno un solo ruolo, node:PROVINCIA")
		}
	}
	return nil
}

// String returns the roles comma-separated, as ParseRoles reads them.
func (rs Roles) String() string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = r.String()
	}
	return strings.Join(s, ",")
}

// IsAdmin reports whether any role is admin.
func (rs Roles) IsAdmin() bool { return slices.ContainsFunc(rs, Role.IsAdmin) }

// SeesEmbargoed reports whether any role sees embargoed releases.
func (rs Roles) SeesEmbargoed() bool { return slices.ContainsFunc(rs, Role.SeesEmbargoed) }

// CanReadMicrodata reports whether any role reads territory's microdata.
func (rs Roles) CanReadMicrodata(territory string) bool {
	return slices.ContainsFunc(rs, func(r Role) bool { return r.CanReadMicrodata(territory) })
}

// CanEdit reports whether any role edits territory.
func (rs Roles) CanEdit(territory string) bool {
	return slices.ContainsFunc(rs, func(r Role) bool { return r.CanEdit(territory) })
}
