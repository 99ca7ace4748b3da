package oml

// Italian fiscal codes (codice fiscale) of people have 16 characters: six
// letters, then date and place of birth (digits, possibly replaced by the
// letters LMNPQRSTUV in case of homocody) and a check letter. Employers are
// identified by an 11-digit VAT number (partita IVA) with a check digit, or by
// the fiscal code of the person when the employer is a household.

// omocodia maps the letters that replace digits in homocodic fiscal codes.
const omocodia = "LMNPQRSTUV"

// oddValues are the values of characters in odd (1-based) positions.
var oddValues = [36]int{
	// digits 0-9
	1, 0, 5, 7, 9, 13, 15, 17, 19, 21,
	// letters A-Z
	1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23,
}

func cfIndex(c byte) (int, bool) {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0'), true
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 10, true
	}
	return 0, false
}

// FiscalCodeCheckChar returns the check letter of the first 15 characters
// of a personal fiscal code (upper case), or 0 if they contain a character
// outside A-Z and 0-9.
func FiscalCodeCheckChar(first15 string) byte {
	if len(first15) != 15 {
		return 0
	}
	sum := 0
	for i := 0; i < 15; i++ {
		idx, ok := cfIndex(first15[i])
		if !ok {
			return 0
		}
		if i%2 == 0 { // odd position, 1-based
			sum += oddValues[idx]
		} else if idx >= 10 {
			sum += idx - 10
		} else {
			sum += idx
		}
	}
	return byte('A' + sum%26)
}

// ValidFiscalCode reports whether s (upper case) is a well-formed personal
// fiscal code with a correct check letter. Homocodic variants are accepted.
func ValidFiscalCode(s string) bool {
	if len(s) != 16 {
		return false
	}
	for i := 0; i < 16; i++ {
		c := s[i]
		switch i {
		case 0, 1, 2, 3, 4, 5, 8, 11, 15: // letters
			if c < 'A' || c > 'Z' {
				return false
			}
		default: // digits or their homocodic letters
			if !(c >= '0' && c <= '9') && !isOmocodia(c) {
				return false
			}
		}
	}
	return FiscalCodeCheckChar(s[:15]) == s[15]
}

func isOmocodia(c byte) bool {
	for i := 0; i < len(omocodia); i++ {
		if omocodia[i] == c {
			return true
		}
	}
	return false
}

// VATCheckDigit returns the check digit of the first 10 digits of a VAT
// number, or 0 if they are not all digits.
func VATCheckDigit(first10 string) byte {
	if len(first10) != 10 {
		return 0
	}
	sum := 0
	for i := 0; i < 10; i++ {
		c := first10[i]
		if c < '0' || c > '9' {
			return 0
		}
		d := int(c - '0')
		if i%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return byte('0' + (10-sum%10)%10)
}

// ValidVATNumber reports whether s is an 11-digit VAT number (or the
// numeric fiscal code of a legal person) with a correct check digit.
func ValidVATNumber(s string) bool {
	return len(s) == 11 && VATCheckDigit(s[:10]) == s[10]
}

// ValidEmployerCode reports whether s identifies an employer: a VAT number
// or, for households and sole traders, a personal fiscal code.
func ValidEmployerCode(s string) bool {
	return ValidVATNumber(s) || ValidFiscalCode(s)
}
