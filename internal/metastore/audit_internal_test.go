package metastore

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/regione-lombardia/oml"
)

// TestAuditForgedTail appends, through SQL, an entry whose hash and link
// are correct (someone who knows the scheme): the head recorded beside the
// log still tells it apart.
func TestAuditForgedTail(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var last Entry
	for range 3 {
		if last, err = s.Append(ctx, Entry{Action: ActionMicrodataRead, Object: "016", Rows: 5}); err != nil {
			t.Fatal(err)
		}
	}
	forged := Entry{Seq: 4, Time: last.Time.Add(time.Second), Actor: "x", Action: ActionLogin, Object: "x", PrevHash: last.Hash}
	forged.Hash = chainHash(forged.PrevHash, forged)
	if _, err := s.w.ExecContext(ctx, `INSERT INTO audit VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, forged.Seq, ts(forged.Time),
		forged.Actor, forged.Action, forged.Object, forged.Rows, forged.Detail, forged.PrevHash, forged.Hash); err != nil {
		t.Fatal(err)
	}
	n, err := s.VerifyAudit(ctx)
	if oml.ErrorCode(err) != oml.EINTEGRITY || !strings.Contains(oml.ErrorMessage(err), "alla voce 4: voci aggiunte dopo la testa registrata (3)") || n != 3 {
		t.Errorf("VerifyAudit = %d, %v", n, err)
	}
}

func TestPHC(t *testing.T) {
	p := PasswordParams{Memory: 64, Time: 1, Threads: 1}
	h, err := hashPassword("correct horse battery", p)
	if err != nil {
		t.Fatal(err)
	}
	if ok, got, err := verifyPassword("correct horse battery", h); !ok || got != p || err != nil {
		t.Errorf("verify = %v, %+v, %v", ok, got, err)
	}
	if ok, _, _ := verifyPassword("correct horse batterY", h); ok {
		t.Error("wrong password verified")
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=16$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "$argon2id$v=19$m=0,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=64,t=1,p=1$!!$aGFzaGhhc2hoYXNoaGFzaA", "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaA"} {
		if _, _, err := verifyPassword("x", bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
