package coinflowtest

import (
	"strings"
)

// ibanLengths is the length of an IBAN per country, from the SWIFT IBAN
// registry: an IBAN of a country missing here, or of another length, is
// invalid.
var ibanLengths = map[string]int{
	"AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22,
	"BH": 22, "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24,
	"DE": 22, "DJ": 27, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18,
	"FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27,
	"GT": 28, "HN": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
	"IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20,
	"LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20,
	"MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24,
	"PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24,
	"SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25,
	"SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
	"YE": 30,
}

// compact removes the spaces and dashes people write account numbers
// with and upper-cases the rest.
func compact(s string) string {
	return strings.ToUpper(strings.NewReplacer(" ", "", "-", "").Replace(s))
}

// ibanCountry checks a compacted IBAN (ISO 13616): two letters of a
// country in ibanLengths, two check digits, the country's length of
// letters and digits, and the mod-97 checksum. It returns the country.
func ibanCountry(iban string) (string, bool) {
	if len(iban) < 5 || !isUpperAlpha(iban[:2]) || !isDigits(iban[2:4]) {
		return "", false
	}
	country := iban[:2]
	if ibanLengths[country] != len(iban) {
		return "", false
	}
	// Move the first four characters to the end, read letters as 10..35
	// and take the number mod 97, digit by digit: 1 means valid.
	rem := 0
	for _, c := range iban[4:] + iban[:4] {
		switch {
		case c >= '0' && c <= '9':
			rem = (rem*10 + int(c-'0')) % 97
		case c >= 'A' && c <= 'Z':
			rem = (rem*100 + int(c-'A') + 10) % 97
		default:
			return "", false
		}
	}
	return country, rem == 1
}

// validBIC checks a BIC (ISO 9362): 4 letters of bank, a country code, 2
// letters or digits of location and optionally 3 of branch.
func validBIC(bic string) bool {
	if len(bic) != 8 && len(bic) != 11 {
		return false
	}
	return isUpperAlpha(bic[:4]) && validCountry(bic[4:6]) && isUpperAlnum(bic[6:])
}

// isDigits reports whether s is non-empty and all ASCII digits.
func isDigits(s string) bool {
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// isUpperAlpha reports whether s is non-empty and all ASCII capitals.
func isUpperAlpha(s string) bool {
	for _, c := range []byte(s) {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return s != ""
}

// isUpperAlnum reports whether s is non-empty and all ASCII capitals or
// digits.
func isUpperAlnum(s string) bool {
	for _, c := range []byte(s) {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return s != ""
}

// countryCodes are the officially assigned ISO 3166-1 alpha-2 codes.
const countryCodes = "" +
	"AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ " +
	"BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ " +
	"CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ " +
	"DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR " +
	"GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY " +
	"HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP " +
	"KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY " +
	"MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ " +
	"NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY " +
	"QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ " +
	"TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ " +
	"VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW"

// countrySet is countryCodes as a set.
var countrySet = func() map[string]bool {
	m := map[string]bool{}
	for c := range strings.FieldsSeq(countryCodes) {
		m[c] = true
	}
	return m
}()

// validCountry reports whether c is an assigned ISO 3166-1 alpha-2 code
// (upper case). XK (Kosovo), user-assigned but used by banks, counts too.
func validCountry(c string) bool { return countrySet[c] || c == "XK" }
