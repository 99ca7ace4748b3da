package cofile

import (
	"io"
	"strings"
	"testing"
)

func TestSplitLine(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		ok   bool
	}{
		{"a,b,c", []string{"a", "b", "c"}, true},
		{"", []string{""}, true},
		{"a,,c,", []string{"a", "", "c", ""}, true},
		{`"a,b",c`, []string{"a,b", "c"}, true},
		{`"he said ""hi""",x`, []string{`he said "hi"`, "x"}, true},
		{`"",x`, []string{"", "x"}, true},
		{`x,"y"`, []string{"x", "y"}, true},
		{`"unterminated,x`, nil, false},
		{`"a"b,c`, nil, false},
		{`a"b,c`, nil, false},
		{`a,b"`, nil, false},
	}
	for _, tt := range tests {
		got, _, ok := splitLine(nil, nil, []byte(tt.in))
		if ok != tt.ok {
			t.Errorf("splitLine(%q) ok = %v, want %v", tt.in, ok, tt.ok)
			continue
		}
		if !ok {
			continue
		}
		var gs []string
		for _, f := range got {
			gs = append(gs, string(f))
		}
		if strings.Join(gs, "|") != strings.Join(tt.want, "|") || len(gs) != len(tt.want) {
			t.Errorf("splitLine(%q) = %q, want %q", tt.in, gs, tt.want)
		}
	}
}

func TestLineReader(t *testing.T) {
	in := "\xef\xbb\xbfh1,h2\r\na,b\r\n\r\nlast"
	r := newLineReader(strings.NewReader(in))
	var got []string
	for {
		l, err := r.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(l))
	}
	want := []string{"h1,h2", "a,b", "", "last"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("lines = %q, want %q", got, want)
	}
	if r.n != 4 {
		t.Errorf("line count %d, want 4", r.n)
	}
}

func TestLineReaderLongLine(t *testing.T) {
	long := strings.Repeat("x", 300<<10)
	r := newLineReader(strings.NewReader("a\n" + long + "\nb\n"))
	for _, want := range []string{"a", long, "b"} {
		l, err := r.next()
		if err != nil || string(l) != want {
			t.Fatalf("got %d bytes err %v, want %d bytes", len(l), err, len(want))
		}
	}
}
