package recognizer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"strings"
)

// InkMax is the brightest channel value OCR counts as ink: a pixel whose
// red, green and blue are all below it is dark and colourless, as printed
// letters are; everything else (skin, blood, shapes, background) is made
// white before tesseract sees the image.
const InkMax = 100

// Binarize returns img in black (ink, see InkMax) and white.
func Binarize(img image.Image) *image.Gray {
	src := toRGBA(img)
	b := src.Rect
	out := image.NewGray(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			i := src.PixOffset(x, y)
			p := src.Pix[i : i+3 : i+3]
			v := uint8(255)
			if p[0] < InkMax && p[1] < InkMax && p[2] < InkMax {
				v = 0
			}
			out.SetGray(x, y, color.Gray{Y: v})
		}
	}
	return out
}

// ErrNoTesseract is returned by OCR when the tesseract program or its
// English model is missing.
var ErrNoTesseract = errors.New("tesseract OCR is not installed: install the Debian packages tesseract-ocr and tesseract-ocr-eng (apt-get install -y tesseract-ocr tesseract-ocr-eng), or run make deps")

// TesseractPath finds the tesseract program: $TESSERACT if set, else
// tesseract on PATH.
func TesseractPath() (string, error) {
	name := os.Getenv("TESSERACT")
	if name == "" {
		name = "tesseract"
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%w (%v)", ErrNoTesseract, err)
	}
	return p, nil
}

// OCR reads the text of an image with tesseract (LSTM engine, English
// model, page segmentation mode 6: one uniform block of text) after
// Binarize, and returns it normalised by NormalizeText. Tesseract runs on
// one thread (OMP_THREAD_LIMIT=1), as a function instance has a share of
// a core.
func OCR(ctx context.Context, img image.Image) (string, error) {
	bin, err := TesseractPath()
	if err != nil {
		return "", err
	}
	var in bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&in, Binarize(img)); err != nil {
		return "", fmt.Errorf("encode image for tesseract: %w", err)
	}
	cmd := exec.CommandContext(ctx, bin, "stdin", "stdout", "-l", "eng", "--oem", "1", "--psm", "6")
	cmd.Env = append(os.Environ(), "OMP_THREAD_LIMIT=1")
	cmd.Stdin = &in
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if strings.Contains(msg, "Failed loading language") || strings.Contains(msg, "traineddata") {
			return "", fmt.Errorf("%w: %s", ErrNoTesseract, msg)
		}
		return "", fmt.Errorf("run %s: %w: %s", bin, err, msg)
	}
	return NormalizeText(out.String()), nil
}

// NormalizeText trims every line, joins runs of spaces into one, drops
// empty lines and upper-cases the rest, so texts read by OCR compare with
// the texts drawn.
func NormalizeText(s string) string {
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			lines = append(lines, strings.ToUpper(strings.Join(f, " ")))
		}
	}
	return strings.Join(lines, "\n")
}
