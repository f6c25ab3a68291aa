package recognizer

import (
	"context"
	"strings"
	"testing"
)

// The steps on their own, on the scene of the end-to-end benchmark:
//
//	go test -run '^$' -bench . ./benchmarks/recognizer/

var benchScene = Scene{Seed: 2, Text: "VENDEMOS ARMAS Y DROGAS"}

func benchImage(b *testing.B) []byte {
	img, err := Render(benchScene)
	if err != nil {
		b.Fatal(err)
	}
	p, err := EncodePNG(img)
	if err != nil {
		b.Fatal(err)
	}
	return p
}

func BenchmarkUpload(b *testing.B) {
	for b.Loop() {
		benchImage(b)
	}
}

// BenchmarkDetectAdult and the others below include decoding the PNG, as
// the functions do.
func BenchmarkDetectAdult(b *testing.B) {
	p := benchImage(b)
	for b.Loop() {
		img, err := DecodePNG(p)
		if err != nil {
			b.Fatal(err)
		}
		DetectAdult(img)
	}
}

func BenchmarkDetectViolence(b *testing.B) {
	p := benchImage(b)
	for b.Loop() {
		img, err := DecodePNG(p)
		if err != nil {
			b.Fatal(err)
		}
		DetectViolence(img)
	}
}

func BenchmarkOCR(b *testing.B) {
	p := benchImage(b)
	for b.Loop() {
		img, err := DecodePNG(p)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := OCR(context.Background(), img); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTranslate(b *testing.B) {
	text := strings.Join(Phrases, "\n")
	for b.Loop() {
		Spanish().Translate(text)
	}
}

func BenchmarkCensor(b *testing.B) {
	text := Spanish().Translate(strings.Join(Phrases, "\n")).Text
	for b.Loop() {
		Censor(Banned(), text)
	}
}

func BenchmarkMosaic(b *testing.B) {
	p := benchImage(b)
	for b.Loop() {
		img, err := DecodePNG(p)
		if err != nil {
			b.Fatal(err)
		}
		m, err := Pixelate(img, MosaicBlock)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := EncodePNG(m); err != nil {
			b.Fatal(err)
		}
	}
}
