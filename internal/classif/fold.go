package classif

import (
	"unicode"
	"unicode/utf8"
)

// latin1Base maps the letters U+00C0..U+00DF (and, lower-cased, U+00E0..U+00FF)
// to their unaccented ASCII base letter; 0 marks a character with no base
// letter (Æ, ×, Þ, ß), which is kept as it is.
const latin1Base = "aaaaaa\x00ceeeeiiiidnooooo\x00ouuuuy\x00\x00"

// foldRune returns the ASCII letter or digit r folds to, 0 for a separator
// (anything that is neither a letter nor a digit) and utf8.RuneError for a
// letter or digit outside ASCII with no ASCII base, which callers keep
// lower-cased.
func foldRune(r rune) rune {
	switch {
	case 'a' <= r && r <= 'z', '0' <= r && r <= '9':
		return r
	case 'A' <= r && r <= 'Z':
		return r + 'a' - 'A'
	case r < 0xC0:
		return 0
	case r <= 0xFF:
		if r == 0xFF {
			return 'y'
		}
		if b := latin1Base[(r-0xC0)&0x1F]; b != 0 {
			return rune(b)
		}
	}
	if unicode.IsLetter(r) || unicode.IsDigit(r) {
		return utf8.RuneError
	}
	return 0
}

// fold appends to dst the lookup key of s: its letters and digits, lower
// case and without accents; spaces, punctuation and apostrophes are dropped,
// so "ATTIVITA' DI ..." and "Attività di ..." share a key. With a dst backed
// by a stack array the lookup does not allocate.
func fold(dst []byte, s string) []byte {
	for i := 0; i < len(s); {
		r, n := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, n = utf8.DecodeRuneInString(s[i:])
		}
		i += n
		switch f := foldRune(r); f {
		case 0:
		case utf8.RuneError:
			dst = utf8.AppendRune(dst, unicode.ToLower(r))
		default:
			dst = append(dst, byte(f))
		}
	}
	return dst
}

// foldName is fold for place names: it also drops the connecting words
// ("e", "di", "della", ...) and the words "provincia", "città",
// "metropolitana", so that "Monza e della Brianza", "MONZA E BRIANZA",
// "monza brianza" and "Città metropolitana di Milano" / "Milano" match.
func foldName(dst []byte, s string) []byte {
	start := len(dst)
	word := start
	endWord := func() {
		if isStopWord(dst[word:]) {
			dst = dst[:word]
		}
		word = len(dst)
	}
	for i := 0; i < len(s); {
		r, n := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, n = utf8.DecodeRuneInString(s[i:])
		}
		i += n
		switch f := foldRune(r); f {
		case 0:
			endWord()
		case utf8.RuneError:
			dst = utf8.AppendRune(dst, unicode.ToLower(r))
		default:
			dst = append(dst, byte(f))
		}
	}
	endWord()
	return dst
}

func isStopWord(w []byte) bool {
	switch string(w) {
	case "e", "d", "di", "del", "dell", "della", "dei", "degli", "delle",
		"provincia", "citta", "metropolitana":
		return true
	}
	return false
}
