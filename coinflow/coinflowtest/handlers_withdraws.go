package coinflowtest

import (
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"
)

// listQuery is GET /merchant/withdraws's query.
type listQuery struct {
	win                             window
	page                            pageParams
	status, speed, search, provider string
	byAmount, desc, otherMerchant   bool
}

func (q listQuery) filtered() bool {
	return q.status != "" || q.speed != "" || q.search != "" || q.provider != ""
}

func (q listQuery) match(w *Withdraw) bool {
	if q.status != "" && w.Status != q.status {
		return false
	}
	if q.speed != "" && w.EffectiveSpeed != q.speed {
		return false
	}
	if q.provider != "" && w.Provider != q.provider {
		return false
	}
	if q.search != "" {
		s := strings.ToLower(q.search)
		hit := false
		for _, f := range []string{w.Transaction, w.TransferID, w.IdempotencyKey, w.UserID, w.Account} {
			if strings.Contains(strings.ToLower(f), s) {
				hit = true
				break
			}
		}
		if !hit {
			return false
		}
	}
	return q.win.contains(w.CreatedAt)
}

func (e *Emulator) parseListQuery(r *http.Request) (listQuery, string) {
	v := r.URL.Query()
	var q listQuery
	var msg string
	if q.win, msg = parseWindow(v, "since", "until"); msg != "" {
		return q, msg
	}
	if q.page, msg = e.parsePage(v); msg != "" {
		return q, msg
	}
	q.status = first(v, "status")
	switch q.status {
	case "", StatusPending, StatusInReview, StatusCompleted, StatusFailed:
	default:
		return q, "status must be one of pending, in_review, completed, failed"
	}
	if q.speed = first(v, "speed"); q.speed != "" && !validSpeed(q.speed) {
		return q, "speed must be a WithdrawSpeed"
	}
	q.search, q.provider = first(v, "search"), first(v, "provider")
	switch first(v, "sortBy") {
	case "", "createdAt":
	case "amount":
		q.byAmount = true
	default:
		return q, "sortBy must be createdAt or amount"
	}
	switch d := first(v, "sortDirection"); d {
	case "", "1", "1.0", "asc":
	case "-1", "-1.0", "desc":
		q.desc = true
	default:
		return q, "sortDirection must be 1 or -1"
	}
	if m := first(v, "merchantId"); m != "" && m != e.opts.MerchantID && m != e.opts.MerchantObjectID {
		q.otherMerchant = true
	}
	return q, ""
}

// handleListWithdraws is GET /merchant/withdraws: a bare array, oldest
// first by default, over the synthetic and the stored withdraws merged by
// createdAt (synthetic first on ties, stored by creation among themselves).
func (e *Emulator) handleListWithdraws(w http.ResponseWriter, r *http.Request) {
	q, msg := e.parseListQuery(r)
	if msg != "" {
		writeMsg(w, http.StatusBadRequest, msg)
		return
	}
	out := []withdrawJSON{}
	if q.otherMerchant {
		writeJSON(w, http.StatusOK, out)
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	var page []Withdraw
	if q.filtered() || q.byAmount {
		page = e.scanLocked(q)
	} else {
		page = e.windowPageLocked(q)
	}
	for i := range page {
		out = append(out, e.withdrawJSONOf(&page[i], e.withdrawerIDLocked(&page[i])))
	}
	writeJSON(w, http.StatusOK, out)
}

// merged is the list order over [sLo,sHi) synthetic and [tLo,tHi) stored.
type merged struct {
	e        *Emulator
	sLo, sHi int
	tLo, tHi int
}

func (e *Emulator) mergedLocked(win window) merged {
	n := e.synthetic.n
	created := func(i int) time.Time { return e.syntheticAtLocked(i).CreatedAt }
	m := merged{e: e, sLo: 0, sHi: n, tLo: 0, tHi: len(e.sorted)}
	if !win.since.IsZero() {
		m.sLo = sort.Search(n, func(i int) bool { return !created(i).Before(win.since) })
		m.tLo = sort.Search(len(e.sorted), func(j int) bool { return !e.sorted[j].CreatedAt.Before(win.since) })
	}
	if !win.until.IsZero() {
		m.sHi = sort.Search(n, func(i int) bool { return created(i).After(win.until) })
		m.tHi = sort.Search(len(e.sorted), func(j int) bool { return e.sorted[j].CreatedAt.After(win.until) })
	}
	m.sHi, m.tHi = max(m.sHi, m.sLo), max(m.tHi, m.tLo)
	return m
}

func (m merged) len() int { return m.sHi - m.sLo + m.tHi - m.tLo }

// walk calls f for the merged items at positions [from, to), in order.
func (m merged) walk(from, to int, f func(w Withdraw)) {
	e := m.e
	// The stored item j sits at position (j-tLo) + #synthetic created at or
	// before it; positions grow with j, so binary-search the first stored
	// item at or after from.
	synBefore := func(t time.Time) int {
		return sort.Search(m.sHi-m.sLo, func(k int) bool {
			return e.syntheticAtLocked(m.sLo + k).CreatedAt.After(t)
		})
	}
	j := m.tLo + sort.Search(m.tHi-m.tLo, func(k int) bool {
		return k+synBefore(e.sorted[m.tLo+k].CreatedAt) >= from
	})
	i := m.sLo + from - (j - m.tLo)
	var syn *Withdraw
	for range to - from {
		if syn == nil && i < m.sHi {
			s := e.syntheticAtLocked(i)
			syn = &s
		}
		if syn != nil && (j >= m.tHi || !syn.CreatedAt.After(e.sorted[j].CreatedAt)) {
			f(*syn)
			syn = nil
			i++
			continue
		}
		f(e.sorted[j].Withdraw)
		j++
	}
}

// windowPageLocked serves an unfiltered page in O(limit + log n).
func (e *Emulator) windowPageLocked(q listQuery) []Withdraw {
	m := e.mergedLocked(q.win)
	total := m.len()
	from, to := q.page.offset(), q.page.offset()+q.page.limit
	if q.desc {
		from, to = total-to, total-from
	}
	from, to = max(from, 0), min(to, total)
	if from >= to {
		return nil
	}
	page := make([]Withdraw, 0, to-from)
	m.walk(from, to, func(w Withdraw) { page = append(page, w) })
	if q.desc {
		slices.Reverse(page)
	}
	return page
}

// scanLocked serves a filtered or amount-sorted page by scanning every
// item in the window, remembering only small references to the matches.
func (e *Emulator) scanLocked(q listQuery) []Withdraw {
	type ref struct {
		pos    int
		amount int64
	}
	m := e.mergedLocked(q.win)
	var refs []ref
	pos := 0
	m.walk(0, m.len(), func(w Withdraw) {
		if q.match(&w) {
			refs = append(refs, ref{pos: pos, amount: w.AmountCents})
		}
		pos++
	})
	if q.byAmount {
		slices.SortStableFunc(refs, func(a, b ref) int {
			switch {
			case a.amount < b.amount:
				return -1
			case a.amount > b.amount:
				return 1
			}
			return 0
		})
	}
	if q.desc {
		slices.Reverse(refs)
	}
	from := min(q.page.offset(), len(refs))
	refs = refs[from:min(from+q.page.limit, len(refs))]
	page := make([]Withdraw, 0, len(refs))
	for _, rf := range refs {
		m.walk(rf.pos, rf.pos+1, func(w Withdraw) { page = append(page, w) })
	}
	return page
}

type getWithdrawJSON struct {
	Withdrawal withdrawJSON `json:"withdrawal"`
}

// handleGetWithdraw is GET /merchant/withdraws/{withdrawalId}, by
// transaction or transferId.
func (e *Emulator) handleGetWithdraw(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	wr := e.lookupLocked(r.PathValue("withdrawalId"))
	if wr == nil {
		writeMsg(w, http.StatusNotFound, "Withdrawal not found")
		return
	}
	out := e.withdrawJSONOf(&wr.Withdraw, e.withdrawerIDLocked(&wr.Withdraw))
	if out.Status == StatusInReview {
		// [ASSUMED] IWithdraw.status has no in_review: the single get shows
		// a withdraw in review as pending (payoutInitiated false tells).
		out.Status = StatusPending
	}
	writeJSON(w, http.StatusOK, getWithdrawJSON{Withdrawal: out})
}
