package oml_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/regione-lombardia/oml"
)

func TestParseRole(t *testing.T) {
	tests := []struct {
		in      string
		want    oml.Role
		wantErr string // part of the message; "" for success
	}{
		{"public", oml.Role{Kind: oml.RolePublic}, ""},
		{"admin", oml.Role{Kind: oml.RoleAdmin}, ""},
		{" Admin ", oml.Role{Kind: oml.RoleAdmin}, ""},
		{"analyst:016", oml.Role{Kind: oml.RoleAnalyst, Territory: "016"}, ""},
		{"analyst:ITC4", oml.Role{Kind: oml.RoleAnalyst, Territory: oml.RegionCode}, ""},
		{"editor:itc4", oml.Role{Kind: oml.RoleEditor, Territory: oml.RegionCode}, ""},
		{"editor:108", oml.Role{Kind: oml.RoleEditor, Territory: "108"}, ""},
		{"node:014", oml.Role{Kind: oml.RoleNode, Territory: "014"}, ""},
		{"", oml.Role{}, "ruolo vuoto"},
		{"admin:016", oml.Role{}, "admin non ha territorio"},
		{"public:ITC4", oml.Role{}, "public non ha territorio"},
		{"analyst", oml.Role{}, "manca il territorio"},
		{"analyst:", oml.Role{}, "manca il territorio"},
		{"editor:LOM", oml.Role{}, "la Lombardia si scrive ITC4"},
		{"analyst:03", oml.Role{}, "la Lombardia si scrive ITC4"},
		{"analyst:16", oml.Role{}, "territorio 16 sconosciuto"},
		{"analyst:016024", oml.Role{}, "sconosciuto"},
		{"node:ITC4", oml.Role{}, "un nodo è una provincia"},
		{"node", oml.Role{}, "un nodo è una provincia"},
		{"root", oml.Role{}, "tipo root sconosciuto"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := oml.ParseRole(tt.in)
			if tt.wantErr == "" {
				if err != nil || got != tt.want {
					t.Fatalf("ParseRole(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
				}
				again, err := oml.ParseRole(got.String())
				if err != nil || again != got {
					t.Errorf("round trip of %q: %+v, %v", got.String(), again, err)
				}
				return
			}
			if oml.ErrorCode(err) != oml.EINVALID || !strings.Contains(oml.ErrorMessage(err), tt.wantErr) {
				t.Fatalf("ParseRole(%q) error %v, want EINVALID with %q", tt.in, err, tt.wantErr)
			}
			if msg := oml.ErrorMessage(err); !strings.Contains(msg, " / ") {
				t.Errorf("message %q is not bilingual", msg)
			}
			if !strings.Contains(oml.ErrorHint(err), "analyst:016") {
				t.Errorf("hint %q does not show the forms", oml.ErrorHint(err))
			}
		})
	}
}

func TestRolePermissions(t *testing.T) {
	type perms struct{ micro016, micro017, microRegion, microComune, embargo, admin, edit016, editRegion bool }
	tests := []struct {
		role string
		want perms
	}{
		{"public", perms{}},
		{"admin", perms{embargo: true, admin: true, edit016: true, editRegion: true}},
		{"analyst:016", perms{micro016: true, embargo: true}},
		{"analyst:ITC4", perms{micro016: true, micro017: true, microRegion: true, embargo: true}},
		{"editor:016", perms{embargo: true, edit016: true}},
		{"editor:ITC4", perms{embargo: true, edit016: true, editRegion: true}},
		{"node:016", perms{micro016: true}},
	}
	for _, tt := range tests {
		t.Run(tt.role, func(t *testing.T) {
			r, err := oml.ParseRole(tt.role)
			if err != nil {
				t.Fatal(err)
			}
			got := perms{
				micro016: r.CanReadMicrodata("016"), micro017: r.CanReadMicrodata("017"),
				microRegion: r.CanReadMicrodata(oml.RegionCode), microComune: r.CanReadMicrodata("016024"),
				embargo: r.SeesEmbargoed(), admin: r.IsAdmin(), edit016: r.CanEdit("016"), editRegion: r.CanEdit(oml.RegionCode),
			}
			if got != tt.want {
				t.Errorf("%s: got %+v, want %+v", tt.role, got, tt.want)
			}
		})
	}
}

func TestRoles(t *testing.T) {
	rs, err := oml.ParseRoles("editor:016, analyst:017,editor:016,,admin")
	if err != nil {
		t.Fatal(err)
	}
	if got := rs.String(); got != "admin,analyst:017,editor:016" {
		t.Errorf("ParseRoles normalised to %q", got)
	}
	if !rs.IsAdmin() || !rs.SeesEmbargoed() || !rs.CanReadMicrodata("017") || rs.CanReadMicrodata("016") || !rs.CanEdit("098") {
		t.Errorf("permissions of %s wrong", rs)
	}
	var none oml.Roles
	if none.SeesEmbargoed() || none.CanReadMicrodata("016") || none.IsAdmin() {
		t.Error("no roles grant something")
	}
	if _, err := oml.ParseRoles("analyst:016,boss"); oml.ErrorCode(err) != oml.EINVALID {
		t.Errorf("bad role in a list: %v", err)
	}
	if err := (oml.Roles{{Kind: oml.RoleNode, Territory: "014"}, {Kind: oml.RoleAdmin}}).Validate(); oml.ErrorCode(err) != oml.EINVALID {
		t.Errorf("node with another role: %v", err)
	}

	// Roles are strings in JSON.
	b, err := json.Marshal(rs)
	if err != nil || string(b) != `["admin","analyst:017","editor:016"]` {
		t.Fatalf("JSON %s, %v", b, err)
	}
	var back oml.Roles
	if err := json.Unmarshal(b, &back); err != nil || back.String() != rs.String() {
		t.Errorf("JSON round trip %v, %v", back, err)
	}
	if err := json.Unmarshal([]byte(`["analyst:LOM"]`), &back); err == nil {
		t.Error("JSON accepted a bad role")
	}
}
