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
		packT(d, mr, a[(i0+s*mr)*lda+l0:], lda, rows, kc)
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
		packT(d, nr, b[(j0+s*nr)*ldb+l0:], ldb, cols, kc)
	}
}

// packT transposes rows < w lines of src (stride ld), kc elements each, into
// dst: dst[l·w + r] = src[r·ld + l], and zeroes dst[l·w + r] for r ≥ rows.
// Eight lines at a time, so that each step of l writes 32 contiguous bytes.
func packT(dst []float32, w int, src []float32, ld, rows, kc int) {
	r := 0
	for ; r+8 <= rows; r += 8 {
		s0, s1, s2, s3 := src[r*ld:][:kc], src[(r+1)*ld:][:kc], src[(r+2)*ld:][:kc], src[(r+3)*ld:][:kc]
		s4, s5, s6, s7 := src[(r+4)*ld:][:kc], src[(r+5)*ld:][:kc], src[(r+6)*ld:][:kc], src[(r+7)*ld:][:kc]
		for l := range kc {
			d := dst[l*w+r:][:8]
			d[0], d[1], d[2], d[3] = s0[l], s1[l], s2[l], s3[l]
			d[4], d[5], d[6], d[7] = s4[l], s5[l], s6[l], s7[l]
		}
	}
	for ; r < rows; r++ {
		for l, v := range src[r*ld:][:kc] {
			dst[l*w+r] = v
		}
	}
	if rows < w {
		for l := range kc {
			clear(dst[l*w+rows : (l+1)*w])
		}
	}
}
