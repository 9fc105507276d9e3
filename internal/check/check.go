// Package check holds the input checks that more than one part of payoutd
// applies to what a merchant sends: each returns "" for a good value or a
// message that names what is wrong without repeating the value.
package check

import (
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/payoutd/payoutd/models"
	"github.com/payoutd/payoutd/rail"
)

// MaxIDLen bounds ids, tokens and keys a merchant sends.
const MaxIDLen = 128

// ID checks an identifier: present, at most MaxIDLen bytes, printable and
// without spaces.
func ID(s string) string {
	switch {
	case s == "":
		return "is required"
	case len(s) > MaxIDLen:
		return "must be at most " + strconv.Itoa(MaxIDLen) + " bytes"
	}
	for _, r := range s {
		if !unicode.IsPrint(r) || unicode.IsSpace(r) {
			return "must be printable, without spaces"
		}
	}
	return ""
}

// Text checks a required line of text of at most max bytes, printable.
func Text(s string, max int) string {
	switch {
	case s == "":
		return "is required"
	case len(s) > max:
		return "must be at most " + strconv.Itoa(max) + " bytes"
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return "must be printable text"
		}
	}
	return ""
}

// Digits reports whether s is non-empty and all ASCII digits.
func Digits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Amount checks a payout amount in cents and its currency, adding a
// message per bad part to errs under prefix.cents and prefix.currency.
func Amount(errs map[string]string, prefix string, cents int64, currency string) {
	switch {
	case cents <= 0:
		errs[prefix+".cents"] = "must be a positive whole number of cents"
	case cents > models.MaxCents:
		errs[prefix+".cents"] = "is larger than any payout Coinflow accepts"
	}
	if currencies := rail.PayoutCurrencies(); !slices.Contains(currencies, currency) {
		errs[prefix+".currency"] = "must be one of " + strings.Join(currencies, ", ")
	}
}
