package engine

// packA copies rows [i0, i0+mc) and columns [l0, l0+kc) of op(A) into dst as
// slivers of mr rows: element (i0+s·mr+r, l0+l) goes to dst[s·mr·kc + l·mr + r].
// Rows past i0+mc in the last sliver are zero.
func packA(dst []float32, mr int, tA bool, a []float32, lda, i0, mc, l0, kc int) {
	for s := 0; s*mr < mc; s++ {
		d := dst[s*mr*kc : (s+1)*mr*kc]
		rows := min(mr, mc-s*mr)
		if tA {
			for l := range kc {
				src := a[(l0+l)*lda+i0+s*mr:]
				copy(d[l*mr:l*mr+rows], src[:rows])
				clear(d[l*mr+rows : (l+1)*mr])
			}
			continue
		}
		for r := range mr {
			if r >= rows {
				for l := range kc {
					d[l*mr+r] = 0
				}
				continue
			}
			row := a[(i0+s*mr+r)*lda+l0:]
			row = row[:kc]
			for l, v := range row {
				d[l*mr+r] = v
			}
		}
	}
}

// packB copies rows [l0, l0+kc) and columns [j0, j0+nc) of op(B) into dst
// as slivers of nr columns: element (l0+l, j0+s·nr+c) goes to
// dst[s·nr·kc + l·nr + c]. Columns past j0+nc in the last sliver are zero.
func packB(dst []float32, nr int, tB bool, b []float32, ldb, l0, kc, j0, nc int) {
	for s := 0; s*nr < nc; s++ {
		d := dst[s*nr*kc : (s+1)*nr*kc]
		cols := min(nr, nc-s*nr)
		if !tB {
			for l := range kc {
				src := b[(l0+l)*ldb+j0+s*nr:]
				copy(d[l*nr:l*nr+cols], src[:cols])
				clear(d[l*nr+cols : (l+1)*nr])
			}
			continue
		}
		for c := range nr {
			if c >= cols {
				for l := range kc {
					d[l*nr+c] = 0
				}
				continue
			}
			col := b[(j0+s*nr+c)*ldb+l0:]
			col = col[:kc]
			for l, v := range col {
				d[l*nr+c] = v
			}
		}
	}
}
