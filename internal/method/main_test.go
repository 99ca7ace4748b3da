package method_test

import (
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if synthetic.db != nil {
		synthetic.db.Close()
	}
	os.Exit(code)
}
