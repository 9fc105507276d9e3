package reconcile

// SetBeforePage lets tests hold a page's comparison back, to put pages in
// an order the stream seldom produces on its own.
func SetBeforePage(r *Reconciler, fn func(seq uint32)) { r.beforePage = fn }
