package onboard

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/payoutd/payoutd/coinflow"
	"github.com/payoutd/payoutd/internal/check"
	"github.com/payoutd/payoutd/internal/reqlog"
	"github.com/payoutd/payoutd/models"
)

// Address is a US withdrawer's home address.
type Address struct {
	Line1, Line2, City, State, Zip string
}

// Registration is a withdrawer the merchant registers: US withdrawers give
// their full identity, everyone else an email and a country. SSN and DOB
// are passed to Coinflow and dropped.
type Registration struct {
	UserID  string
	Email   string
	Country string // ISO 3166-1 alpha-2, any case
	// US only.
	FirstName, LastName string
	SSN                 string // nine digits, dashes allowed: 123-45-6789
	DOB                 string // YYYY-MM-DD
	Address             *Address
	// RedirectLink is where Coinflow's hosted verification sends the
	// person when done (optional).
	RedirectLink string
}

var (
	usStates = map[string]bool{}
	zipCode  = regexp.MustCompile(`^[0-9]{5}(-[0-9]{4})?$`)
	ssnForm  = regexp.MustCompile(`^([0-9]{3})-?([0-9]{2})-?([0-9]{4})$`)
)

func init() {
	for _, s := range strings.Fields("AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ " +
		"NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY AS GU MP PR VI UM") {
		usStates[s] = true
	}
}

// country normalises the country code.
func (r *Registration) country() string { return strings.ToUpper(strings.TrimSpace(r.Country)) }

// Validate returns a message per invalid field (nil when valid), judged at
// now (a date of birth may not be in the future). No message repeats a
// value: some are secrets.
func (r *Registration) Validate(now time.Time) map[string]string {
	errs := map[string]string{}
	if msg := check.ID(r.UserID); msg != "" {
		errs["user_id"] = msg
	}
	if msg := checkEmail(r.Email); msg != "" {
		errs["email"] = msg
	}
	country := r.country()
	switch {
	case country == "":
		errs["country"] = "is required"
	case !isoCountries[country]:
		errs["country"] = "must be an ISO 3166-1 alpha-2 country code"
	}
	if r.RedirectLink != "" {
		if msg := checkLink(r.RedirectLink); msg != "" {
			errs["redirect_link"] = msg
		}
	}
	if country != "US" {
		for name, set := range map[string]bool{
			"first_name": r.FirstName != "", "last_name": r.LastName != "", "ssn": r.SSN != "", "dob": r.DOB != "", "address": r.Address != nil,
		} {
			if set {
				errs[name] = "is only taken for US withdrawers; others verify on Coinflow's hosted page"
			}
		}
		return nilIfEmpty(errs)
	}
	for name, v := range map[string]string{"first_name": r.FirstName, "last_name": r.LastName} {
		if msg := check.Text(v, 100); msg != "" {
			errs[name] = msg
		}
	}
	if _, ok := ssnDigits(r.SSN); !ok {
		errs["ssn"] = "must be a valid nine-digit US Social Security number"
	}
	if _, msg := birthDate(r.DOB, now); msg != "" {
		errs["dob"] = msg
	}
	if r.Address == nil {
		errs["address"] = "is required for US withdrawers"
		return errs
	}
	for name, v := range map[string]string{"address.line1": r.Address.Line1, "address.city": r.Address.City} {
		if msg := check.Text(v, 200); msg != "" {
			errs[name] = msg
		}
	}
	if r.Address.Line2 != "" {
		if msg := check.Text(r.Address.Line2, 200); msg != "" {
			errs["address.line2"] = msg
		}
	}
	if !usStates[strings.ToUpper(r.Address.State)] {
		errs["address.state"] = "must be a two-letter US state code"
	}
	if !zipCode.MatchString(r.Address.Zip) {
		errs["address.zip"] = "must be a US ZIP code (12345 or 12345-6789)"
	}
	return nilIfEmpty(errs)
}

func nilIfEmpty(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return m
}

func checkEmail(s string) string {
	if s == "" {
		return "is required"
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || len(s) > 254 || !strings.Contains(s[strings.LastIndexByte(s, '@')+1:], ".") {
		return "must be an email address"
	}
	return ""
}

func checkLink(s string) string {
	if len(s) > 2048 || !(strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://")) || strings.ContainsAny(s, " \t\r\n") {
		return "must be an http(s) URL"
	}
	return ""
}

// ssnDigits returns the nine digits of a US SSN and whether it is one the
// Social Security Administration could have issued (no area 000, 666 or
// 900-999, no group 00, no serial 0000).
func ssnDigits(s string) (string, bool) {
	m := ssnForm.FindStringSubmatch(s)
	if m == nil || m[1] == "000" || m[1] == "666" || m[1][0] == '9' || m[2] == "00" || m[3] == "0000" {
		return "", false
	}
	return m[1] + m[2] + m[3], true
}

// birthDate parses a YYYY-MM-DD date of birth: a real date, not after now
// and not before 1900.
func birthDate(s string, now time.Time) (time.Time, string) {
	d, err := time.Parse(time.DateOnly, s)
	switch {
	case s == "":
		return time.Time{}, "is required"
	case err != nil:
		return time.Time{}, "must be a date, YYYY-MM-DD"
	case d.After(now):
		return time.Time{}, "must not be in the future"
	case d.Year() < 1900:
		return time.Time{}, "must be after 1900"
	}
	return d, ""
}

// Register registers r with Coinflow (POST /withdraw/kyc) and records the
// withdrawer. The result is approved when Coinflow verified it at once,
// pending with Coinflow's hosted verification link otherwise. A user
// payoutd already knows is refused without a Coinflow call. r must be
// valid (Validate).
func (s *Service) Register(ctx context.Context, r Registration) (*Withdrawer, error) {
	if _, err := s.store.WithdrawerGet(ctx, r.UserID); err == nil {
		return nil, ErrAlreadyRegistered
	} else if !errors.Is(err, models.ErrNotFound) {
		return nil, err
	}
	country := r.country()
	var (
		reg *coinflow.Registration
		err error
	)
	if country == "US" {
		ssn, _ := ssnDigits(r.SSN)
		dob, _ := birthDate(r.DOB, s.store.Now())
		reg, err = s.cf.RegisterUS(ctx, r.UserID, coinflow.USIdentity{
			Email: r.Email, FirstName: r.FirstName, LastName: r.LastName,
			Line1: r.Address.Line1, Line2: r.Address.Line2, City: r.Address.City,
			State: strings.ToUpper(r.Address.State), Zip: r.Address.Zip, Country: country, DOB: dob, SSN: ssn,
		}, r.RedirectLink)
	} else {
		reg, err = s.cf.RegisterDocV(ctx, r.UserID, r.Email, country, r.RedirectLink)
	}
	if errors.Is(err, coinflow.ErrAlreadyRegistered) {
		// Coinflow has the withdrawer and payoutd does not: registered
		// outside payoutd, or an earlier attempt took effect and its answer
		// was lost. Either way payoutd records and follows it from now on.
		if rerr := s.Refresh(ctx, r.UserID); rerr != nil {
			reqlog.Entry(ctx, s.log).WithError(rerr).WithField("user_id", r.UserID).Warn("read withdrawer Coinflow already had")
		}
		return nil, ErrAlreadyRegistered
	}
	if err != nil {
		return nil, classify(err)
	}
	v := VerificationOf(&reg.Withdrawer)
	v.UserID, v.EmailMasked, v.Link = r.UserID, models.MaskEmail(r.Email), reg.VerificationLink
	v.Country = country
	if v.Currency == "" {
		v.Currency = currencyOf(country)
	}
	switch {
	case reg.Approved:
		v.Status = models.VerificationApproved
	case reg.VerificationLink != "" && v.Status == models.VerificationApproved:
		v.Status = models.VerificationPending // a 451 is never an approval
	}
	if err := s.record(ctx, v, false); err != nil {
		return nil, err
	}
	if v.Status == models.VerificationPending {
		if err := s.store.WithdrawerScheduleCheck(ctx, r.UserID, s.store.Now().Add(s.cfg.FirstCheck), 0); err != nil {
			return nil, err
		}
	}
	reqlog.Entry(ctx, s.log).WithFields(logrus.Fields{"user_id": r.UserID, "country": country, "verification_status": v.Status}).Info("withdrawer registered")
	w, err := s.Get(ctx, r.UserID, false)
	if err != nil {
		return nil, fmt.Errorf("read registered withdrawer: %w", err)
	}
	return w, nil
}
