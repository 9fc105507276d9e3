package coinflow

import (
	"encoding/json"
	"strconv"
	"time"
)

// withdrawList is a page of GET /merchant/withdraws as the client decodes
// it (decodeBody).
type withdrawList []Withdraw

// decodeBody decodes a page the way encoding/json decodes it into
// []Withdraw. listDecoder does it when it can, in a few allocations a
// withdraw where encoding/json makes twenty-five (and scans each byte
// twice); when it declines, encoding/json decodes the page, errors and
// all.
func (l *withdrawList) decodeBody(data []byte) error {
	if ws, ok := (&listDecoder{data: data, ws: *l}).list(); ok {
		*l = ws
		return nil
	}
	// The declined attempt may have filled part of the backing array, and
	// encoding/json reuses elements without zeroing them: start it clean.
	clear((*l)[:cap(*l)])
	return json.Unmarshal(data, (*[]Withdraw)(l))
}

// listDecoder reads a JSON array of withdraws exactly as encoding/json
// reads it into []Withdraw, for the shapes Coinflow sends, and declines
// (ok false) at anything else: a string with an escape or invalid UTF-8, a
// key holding an escape or a non-ASCII byte or matching a field only when
// case is ignored, a field given twice, a value of another JSON type than
// its field takes, a number that is not an int64 where one is expected, a
// manual edit audit, nesting deeper than maxSkipDepth. What it skips
// (unknown fields, of any shape) it checks as strictly as encoding/json,
// so it never accepts a body encoding/json rejects; a declined page costs
// what encoding/json costs, no more.
//
// The strings of a withdraw are substrings of one copy of its text: a
// Withdraw kept keeps its own record's text alive, never a page.
type listDecoder struct {
	data []byte
	pos  int
	ws   []Withdraw // appended to from [:0]

	// The current withdraw's text spans data[start:pos]; its strings and
	// raw references are set from it once it has been read.
	start int
	strs  []span[*string]
	raws  []span[*json.RawMessage]
}

// span is a field whose value is data[a:b].
type span[P any] struct {
	dst  P
	a, b int
}

func (d *listDecoder) list() ([]Withdraw, bool) {
	ws := d.ws[:0]
	d.space()
	ok := d.eat('[') && d.items(']', func() bool {
		ws = append(ws, Withdraw{})
		return d.withdraw(&ws[len(ws)-1])
	})
	if !ok {
		return nil, false
	}
	d.space()
	if d.pos != len(d.data) {
		return nil, false
	}
	if ws == nil {
		ws = []Withdraw{} // encoding/json makes [] an empty slice, not nil
	}
	return ws, true
}

func (d *listDecoder) withdraw(w *Withdraw) bool {
	d.start = d.pos
	d.strs, d.raws = d.strs[:0], d.raws[:0]
	ok := d.object(withdrawFields[:], func(f int) bool {
		switch f {
		case wTransaction:
			return d.str(&w.Transaction)
		case wCreatedAt:
			return d.timeValue(&w.CreatedAt)
		case wAmount:
			return d.cents(&w.Amount)
		case wSpeed:
			return d.str(&w.Speed)
		case wIdempotencyKey:
			return d.str(&w.IdempotencyKey)
		case wMerchant:
			return d.ref(&w.Merchant)
		case wBlockchain:
			return d.str(&w.Blockchain)
		case wWallet:
			return d.str(&w.Wallet)
		case wWithdrawer:
			return d.ref(&w.Withdrawer)
		case wTransferID:
			return d.str(&w.TransferID)
		case wAccountID:
			return d.str(&w.AccountID)
		case wRate:
			return d.number(&w.UsdToForeignExchangeRate)
		case wUserPaidFees:
			u := &w.UserPaidFees
			return d.fees(userFeeFields, &u.SwapFees, &u.GasFees, &u.Fees, func(f int) bool {
				if f == 3 {
					return d.centsPtr(&u.ProcessingFees)
				}
				return d.centsPtr(&u.CustomFees)
			})
		case wMerchantPaidFees:
			m := &w.MerchantPaidFees
			return d.fees(merchantFeeFields, &m.SwapFees, &m.GasFees, &m.Fees, func(f int) bool {
				if f == 3 {
					return d.centsPtr(&m.MerchantFundedAmount)
				}
				return d.boolPtr(&m.SettledInline)
			})
		case wExpectedDeliveryDate:
			return d.timePtr(&w.ExpectedDeliveryDate)
		case wUpdatedAt:
			return d.timeValue(&w.UpdatedAt)
		case wProvider:
			return d.str(&w.Provider)
		case wStatus:
			return d.str(&w.Status)
		case wReturnStatus:
			return d.str(&w.ReturnStatus)
		case wReturnTransaction:
			return d.str(&w.ReturnTransaction)
		case wReturnedAt:
			return d.timePtr(&w.ReturnedAt)
		case wUserID:
			return d.str(&w.UserID)
		case wDetailMessage:
			return d.str(&w.DetailMessage)
		case wErrorData:
			return d.str(&w.ErrorData)
		case wIsFirstParty:
			return d.boolPtr(&w.IsFirstParty)
		case wPayoutInitiated:
			return d.boolPtr(&w.PayoutInitiated)
		case wManuallyFailedBy:
			return d.null(func() { w.ManuallyFailedBy = nil })
		case wManuallySucceededBy:
			return d.null(func() { w.ManuallySucceededBy = nil })
		case wOrchestrationTraceID:
			return d.str(&w.OrchestrationTraceID)
		}
		return false
	})
	if !ok {
		return false
	}
	if len(d.strs) > 0 {
		text := string(d.data[d.start:d.pos])
		for _, s := range d.strs {
			*s.dst = text[s.a-d.start : s.b-d.start]
		}
	}
	if len(d.raws) > 0 {
		n := 0
		for _, r := range d.raws {
			n += r.b - r.a
		}
		buf := make([]byte, 0, n)
		for _, r := range d.raws {
			at := len(buf)
			buf = append(buf, d.data[r.a:r.b]...)
			*r.dst = buf[at:len(buf):len(buf)]
		}
	}
	return true
}

// The fields of Withdraw, by their place in withdrawFields.
const (
	wTransaction = iota
	wCreatedAt
	wAmount
	wSpeed
	wIdempotencyKey
	wMerchant
	wBlockchain
	wWallet
	wWithdrawer
	wTransferID
	wAccountID
	wRate
	wUserPaidFees
	wMerchantPaidFees
	wExpectedDeliveryDate
	wUpdatedAt
	wProvider
	wStatus
	wReturnStatus
	wReturnTransaction
	wReturnedAt
	wUserID
	wDetailMessage
	wErrorData
	wIsFirstParty
	wPayoutInitiated
	wManuallyFailedBy
	wManuallySucceededBy
	wOrchestrationTraceID
	wFieldCount
)

// withdrawFields are Withdraw's JSON names; TestListDecoderKnowsEveryField
// holds them to the struct tags.
var withdrawFields = [wFieldCount]string{
	"transaction", "createdAt", "amount", "speed", "idempotencyKey", "merchant", "blockchain", "wallet",
	"withdrawer", "transferId", "accountId", "usdToForeignExchangeRate", "userPaidFees", "merchantPaidFees",
	"expectedDeliveryDate", "updatedAt", "provider", "status", "returnStatus", "returnTransaction", "returnedAt",
	"userId", "detailMessage", "errorData", "isFirstParty", "payoutInitiated", "manuallyFailedBy",
	"manuallySucceededBy", "orchestrationTraceId",
}

// The JSON names of CurrencyCents, UserPaidFees and MerchantPaidFees.
var (
	centsFields       = []string{"cents", "currency"}
	userFeeFields     = []string{"swapFees", "gasFees", "fees", "processingFees", "customFees"}
	merchantFeeFields = []string{"swapFees", "gasFees", "fees", "merchantFundedAmount", "settledInline"}
)

// str reads a string field; null leaves it as it is.
func (d *listDecoder) str(dst *string) bool {
	if d.literal("null") {
		return true
	}
	a, b, ok := d.plain()
	if ok {
		d.strs = append(d.strs, span[*string]{dst, a, b})
	}
	return ok
}

// timeValue reads a time.Time as its UnmarshalJSON does, which is what
// encoding/json calls (null leaves it as it is).
func (d *listDecoder) timeValue(dst *time.Time) bool {
	if d.literal("null") {
		return true
	}
	a, b, ok := d.plain()
	return ok && dst.UnmarshalJSON(d.data[a-1:b+1]) == nil
}

// timePtr reads a *time.Time: null sets it nil.
func (d *listDecoder) timePtr(dst **time.Time) bool {
	if d.literal("null") {
		*dst = nil
		return true
	}
	t := new(time.Time)
	*dst = t
	return d.timeValue(t)
}

func (d *listDecoder) boolPtr(dst **bool) bool {
	switch {
	case d.literal("null"):
		*dst = nil
	case d.literal("true"):
		*dst = new(bool)
		**dst = true
	case d.literal("false"):
		*dst = new(bool)
	default:
		return false
	}
	return true
}

// null reads a null, calling set; any other value declines.
func (d *listDecoder) null(set func()) bool {
	if !d.literal("null") {
		return false
	}
	set()
	return true
}

// number reads a json.Number field from a JSON number (encoding/json also
// takes a string holding one: declined). null leaves it as it is.
func (d *listDecoder) number(dst *json.Number) bool {
	if d.literal("null") {
		return true
	}
	a, b, ok := d.num()
	if ok {
		d.strs = append(d.strs, span[*string]{(*string)(dst), a, b})
	}
	return ok
}

// integer reads an int64 from a JSON integer that fits; null leaves it.
func (d *listDecoder) integer(dst *int64) bool {
	if d.literal("null") {
		return true
	}
	a, b, ok := d.num()
	if !ok {
		return false
	}
	n, err := strconv.ParseInt(string(d.data[a:b]), 10, 64)
	if err != nil {
		return false // a fraction, an exponent or too large: encoding/json's error
	}
	*dst = n
	return true
}

// ref reads a Ref: a string as Ref.UnmarshalJSON reads it, anything else
// (null, an object) by Ref.UnmarshalJSON itself.
func (d *listDecoder) ref(dst *Ref) bool {
	at := d.pos
	if d.pos < len(d.data) && d.data[d.pos] == '"' {
		a, b, ok := d.plain()
		if ok {
			d.strs = append(d.strs, span[*string]{&dst.ID, a, b})
			d.raws = append(d.raws, span[*json.RawMessage]{&dst.Raw, a - 1, b + 1})
		}
		return ok
	}
	return d.skip(0) && dst.UnmarshalJSON(d.data[at:d.pos]) == nil
}

// cents reads a CurrencyCents; null leaves it as it is.
func (d *listDecoder) cents(dst *CurrencyCents) bool {
	if d.literal("null") {
		return true
	}
	return d.object(centsFields, func(f int) bool {
		if f == 0 {
			return d.integer(&dst.Cents)
		}
		return d.str(&dst.Currency)
	})
}

// centsPtr reads a *CurrencyCents: null sets it nil.
func (d *listDecoder) centsPtr(dst **CurrencyCents) bool {
	if d.literal("null") {
		*dst = nil
		return true
	}
	*dst = new(CurrencyCents)
	return d.cents(*dst)
}

// fees reads UserPaidFees or MerchantPaidFees, whose fields are fields:
// the three fees both have, then rest for the ones past them. null leaves
// them as they are.
func (d *listDecoder) fees(fields []string, swap, gas, fee *CurrencyCents, rest func(f int) bool) bool {
	if d.literal("null") {
		return true
	}
	return d.object(fields, func(f int) bool {
		switch f {
		case 0:
			return d.cents(swap)
		case 1:
			return d.cents(gas)
		case 2:
			return d.cents(fee)
		}
		return rest(f)
	})
}
