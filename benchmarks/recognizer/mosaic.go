package recognizer

import (
	"fmt"
	"image"
)

// MosaicBlock is the side in pixels of the blocks mosaic pixelates with.
const MosaicBlock = 16

// Pixelate returns a copy of img in which every block×block square
// (aligned to the image's top left corner; those at the right and bottom
// edges may be smaller) is filled with the rounded mean colour of its
// pixels.
func Pixelate(img image.Image, block int) (*image.RGBA, error) {
	if block < 1 {
		return nil, fmt.Errorf("mosaic block of %d pixels: want at least 1", block)
	}
	src := toRGBA(img)
	b := src.Rect
	out := image.NewRGBA(b)
	for by := b.Min.Y; by < b.Max.Y; by += block {
		for bx := b.Min.X; bx < b.Max.X; bx += block {
			r := image.Rect(bx, by, bx+block, by+block).Intersect(b)
			var sum [4]int
			for y := r.Min.Y; y < r.Max.Y; y++ {
				row := src.Pix[src.PixOffset(r.Min.X, y):src.PixOffset(r.Max.X, y)]
				for i, v := range row {
					sum[i%4] += int(v)
				}
			}
			n := r.Dx() * r.Dy()
			var mean [4]uint8
			for i := range mean {
				mean[i] = uint8((sum[i] + n/2) / n)
			}
			for y := r.Min.Y; y < r.Max.Y; y++ {
				row := out.Pix[out.PixOffset(r.Min.X, y):out.PixOffset(r.Max.X, y)]
				for i := range row {
					row[i] = mean[i%4]
				}
			}
		}
	}
	return out, nil
}

// Uniform reports whether every block×block square of img (aligned as in
// Pixelate) has a single colour, which is what a mosaic looks like.
func Uniform(img image.Image, block int) bool {
	src := toRGBA(img)
	b := src.Rect
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			x0 := b.Min.X + (x-b.Min.X)/block*block
			y0 := b.Min.Y + (y-b.Min.Y)/block*block
			i, j := src.PixOffset(x, y), src.PixOffset(x0, y0)
			if [4]uint8(src.Pix[i:i+4]) != [4]uint8(src.Pix[j:j+4]) {
				return false
			}
		}
	}
	return true
}
