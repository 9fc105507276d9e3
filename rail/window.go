package rail

import "time"

// Defaults of Windows: the delivery windows payoutd holds a payout to when
// Coinflow gave no expected delivery date.
const (
	DefaultInstantWindow        = 30 * time.Minute
	DefaultStandardBusinessDays = 3 // standard ACH: 1 to 3 business days
	DefaultOtherBusinessDays    = 2 // iban, eft, wire
)

// Windows are the delivery windows of the rails. The zero value of a field
// means its default.
type Windows struct {
	Instant              time.Duration // instant speeds, from creation
	StandardBusinessDays int           // standard ACH
	OtherBusinessDays    int           // iban, eft, wire and speeds unknown here
}

// Window is when a payout of one speed is due, counted from its creation:
// after Duration, after BusinessDays business days, or at the end of the
// business day it was created in (or the next one). The business-day
// calendar is the caller's (package bizday).
type Window struct {
	Duration         time.Duration
	BusinessDays     int
	EndOfBusinessDay bool
}

// WithDefaults fills the zero fields of w with the defaults.
func (w Windows) WithDefaults() Windows {
	if w.Instant <= 0 {
		w.Instant = DefaultInstantWindow
	}
	if w.StandardBusinessDays <= 0 {
		w.StandardBusinessDays = DefaultStandardBusinessDays
	}
	if w.OtherBusinessDays <= 0 {
		w.OtherBusinessDays = DefaultOtherBusinessDays
	}
	return w
}

// Of is speed's window. A payout whose speed is not known ("") gets
// standard ACH's, the longest; a speed Coinflow adds later gets the other
// rails' window until it is described here.
func (w Windows) Of(speed string) Window {
	w = w.WithDefaults()
	switch {
	case Instant(speed):
		return Window{Duration: w.Instant}
	case speed == SameDay:
		return Window{EndOfBusinessDay: true}
	case speed == Standard, speed == "":
		return Window{BusinessDays: w.StandardBusinessDays}
	default:
		return Window{BusinessDays: w.OtherBusinessDays}
	}
}
