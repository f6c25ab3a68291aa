// Package recognizer is the code of the recognizer benchmark, DataFlower's
// illegal-content recogniser: an image is checked by an adult and a
// violence detector, its text is read (OCR with tesseract), translated and
// censored, and an illegal image is pixelated. The package generates the
// images (Scene, Render) and holds each step: DetectAdult, DetectViolence,
// OCR, Translate, Censor and Pixelate. The function programs in the
// subdirectories call them.
package recognizer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"strings"

	"github.com/faasflow/faasflow-go/fn"
)

// Size of the generated images.
const (
	Width  = 1024
	Height = 768
)

// Text layout: TextScale pixels per font cell (glyphs 25×35 pixels), at
// most MaxLineChars characters a line and MaxLines lines.
const (
	TextScale    = 5
	MaxLineChars = 30
	MaxLines     = 4
	textTop      = 40
	decorTop     = 260 // decorations stay below the text
)

// Scene describes one generated image. The zero Text means two phrases of
// Phrases chosen by Seed.
type Scene struct {
	Seed uint64 `json:"seed"`
	// Text is drawn at the top, wrapped at MaxLineChars; lines may also be
	// split with '\n'. Letters, digits, space and .,!?- only.
	Text string `json:"text,omitempty"`
	// Adult draws large skin-coloured areas that DetectAdult flags.
	Adult bool `json:"adult,omitempty"`
	// Violence draws a blood-coloured stain that DetectViolence flags.
	Violence bool `json:"violence,omitempty"`
}

// DefaultSeed is the seed of a null workflow input.
const DefaultSeed = 1

// ParseScene reads the workflow input of upload: null (seed DefaultSeed), a
// seed number, or a Scene object such as
// {"seed": 3, "text": "VENDEMOS ARMAS", "adult": false, "violence": true}.
func ParseScene(raw []byte) (Scene, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return Scene{Seed: DefaultSeed}, nil
	}
	if raw[0] != '{' {
		var seed uint64
		if err := json.Unmarshal(raw, &seed); err != nil {
			return Scene{}, fmt.Errorf("input %.40q is neither a seed (a non-negative integer) nor a scene object: %w", raw, err)
		}
		return Scene{Seed: seed}, nil
	}
	var s Scene
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return Scene{}, fmt.Errorf("scene %.80q: %w (fields: seed, text, adult, violence)", raw, err)
	}
	return s, nil
}

// Phrases are clean Spanish sentences, each translated in full by the
// dictionary, that a scene without text draws.
var Phrases = []string{
	"EL GATO COME PESCADO",
	"LA CASA ES GRANDE Y BLANCA",
	"HOY HACE SOL EN LA CIUDAD",
	"MI HERMANO LEE UN LIBRO",
	"BUENOS DIAS A TODOS",
	"EL TREN LLEGA A LAS OCHO",
	"LOS NINOS JUEGAN EN EL PARQUE",
	"LA TIENDA ABRE MANANA",
	"NECESITO AGUA Y PAN",
	"EL PERRO DUERME EN LA CAMA",
	"MI MADRE COCINA ARROZ",
	"EL CIELO ES AZUL",
	"VAMOS A LA PLAYA",
	"ESTA NOCHE HAY MUSICA",
	"GRACIAS POR TU AYUDA",
	"EL MERCADO VENDE FRUTA FRESCA",
}

// Lines returns the lines of text the scene draws.
func (s Scene) Lines() ([]string, error) {
	text := s.Text
	if text == "" {
		r := newRNG(s.Seed)
		i := r.intn(len(Phrases))
		j := (i + 1 + r.intn(len(Phrases)-1)) % len(Phrases)
		text = Phrases[i] + "\n" + Phrases[j]
	}
	var lines []string
	for _, para := range strings.Split(text, "\n") {
		line := ""
		for _, w := range strings.Fields(para) {
			for _, r := range w {
				if !Drawable(r) {
					return nil, fmt.Errorf("text %q: character %q cannot be drawn: use letters, digits, space and .,!?-", text, r)
				}
			}
			switch {
			case len(w) > MaxLineChars:
				return nil, fmt.Errorf("text %q: word %q is longer than a line (%d characters)", text, w, MaxLineChars)
			case line == "":
				line = w
			case len(line)+1+len(w) <= MaxLineChars:
				line += " " + w
			default:
				lines = append(lines, line)
				line = w
			}
		}
		if line != "" {
			lines = append(lines, line)
		}
	}
	if len(lines) == 0 {
		return nil, errors.New("text has no words")
	}
	if len(lines) > MaxLines {
		return nil, fmt.Errorf("text %q needs %d lines of %d characters; at most %d fit", text, len(lines), MaxLineChars, MaxLines)
	}
	for i, l := range lines {
		lines[i] = strings.ToUpper(l)
	}
	return lines, nil
}

// Palettes. Skin tones pass IsSkin even at the darkest shading; every other
// colour fails both IsSkin and IsBlood, and only ink has all channels
// under 100 (what OCR keeps).
var (
	skinTones = []color.RGBA{{224, 172, 140, 255}, {198, 134, 106, 255}, {232, 190, 160, 255}, {170, 112, 82, 255}}
	bloodRed  = []color.RGBA{{150, 14, 18, 255}, {128, 8, 10, 255}, {170, 22, 20, 255}}
	neutral   = []color.RGBA{{90, 140, 200, 255}, {110, 170, 120, 255}, {160, 160, 170, 255}, {120, 180, 200, 255}, {180, 170, 210, 255}, {140, 190, 150, 255}}
	inkColour = color.RGBA{22, 22, 28, 255}
)

// Render draws the scene: a light background, a few neutral shapes, the
// large areas that Adult and Violence ask for, a small face-sized skin area
// and a small red ball (too small for either detector), and the text at the
// top in dark capitals.
func Render(s Scene) (*image.RGBA, error) {
	lines, err := s.Lines()
	if err != nil {
		return nil, err
	}
	r := newRNG(s.Seed)
	img := image.NewRGBA(image.Rect(0, 0, Width, Height))

	// Background: blue-grey, so never skin, darkening slightly downwards.
	base := color.RGBA{uint8(226 + r.intn(8)), uint8(230 + r.intn(8)), uint8(240 + r.intn(10)), 255}
	for y := 0; y < Height; y++ {
		f := 1 - 0.06*float64(y)/Height
		c := color.RGBA{scale(base.R, f), scale(base.G, f), scale(base.B, f), 255}
		draw.Draw(img, image.Rect(0, y, Width, y+1), image.NewUniform(c), image.Point{}, draw.Src)
	}

	for range 3 + r.intn(3) {
		c := neutral[r.intn(len(neutral))]
		w, h := 80+r.intn(200), 60+r.intn(160)
		x, y := r.intn(Width-w), decorTop+r.intn(Height-decorTop-h)
		if r.intn(2) == 0 {
			draw.Draw(img, image.Rect(x, y, x+w, y+h), image.NewUniform(c), image.Point{}, draw.Src)
		} else {
			fillEllipse(img, float64(x+w/2), float64(y+h/2), float64(w/2), float64(h/2), c, 0)
		}
	}
	// Chosen before the flags' areas, so the flags do not move them.
	faceX, faceY, face := float64(120+r.intn(260)), float64(340+r.intn(300)), skinTones[r.intn(len(skinTones))]
	ballX, ballY, ball := float64(600+r.intn(320)), float64(320+r.intn(380)), bloodRed[r.intn(len(bloodRed))]
	if s.Adult {
		tone := skinTones[r.intn(len(skinTones))]
		cx := 512 + float64(r.intn(41)-20)
		fillEllipse(img, cx, 500, 260, 240, tone, 0.15)
		fillEllipse(img, cx-345, 500, 60, 200, tone, 0.15)
		fillEllipse(img, cx+345, 500, 60, 200, tone, 0.15)
	}
	if s.Violence {
		red := bloodRed[r.intn(len(bloodRed))]
		cx, cy := 420+float64(r.intn(180)), 480+float64(r.intn(60))
		fillEllipse(img, cx, cy, 190, 150, red, 0.1)
		for range 10 {
			a := 2 * math.Pi * r.float()
			d := 170 + 80*r.float()
			rad := 15 + 30*r.float()
			y := max(cy+0.8*d*math.Sin(a), decorTop+rad)
			fillEllipse(img, cx+d*math.Cos(a), y, rad, rad, red, 0.1)
		}
	}

	// On top, a face on the left half and a ball on the right half.
	fillEllipse(img, faceX, faceY, 60, 75, face, 0.15)
	fillEllipse(img, ballX, ballY, 35, 35, ball, 0.1)

	_, th := TextSize(strings.Join(lines, "\n"), TextScale)
	if textTop+th > decorTop {
		return nil, fmt.Errorf("text of %d lines does not fit above the decorations", len(lines))
	}
	if err := DrawText(img, strings.Join(lines, "\n"), 0, textTop, Width, TextStyle{Scale: TextScale, Ink: inkColour}); err != nil {
		return nil, err
	}
	return img, nil
}

// fillEllipse paints an axis-aligned ellipse, darker towards its rim by up
// to the share shade.
func fillEllipse(img *image.RGBA, cx, cy, rx, ry float64, c color.RGBA, shade float64) {
	b := image.Rect(int(cx-rx), int(cy-ry), int(cx+rx)+1, int(cy+ry)+1).Intersect(img.Rect)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			dx, dy := (float64(x)+0.5-cx)/rx, (float64(y)+0.5-cy)/ry
			t := dx*dx + dy*dy
			if t > 1 {
				continue
			}
			f := 1 - shade*t
			i := img.PixOffset(x, y)
			img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = scale(c.R, f), scale(c.G, f), scale(c.B, f), 255
		}
	}
}

func scale(v uint8, f float64) uint8 { return uint8(math.Round(float64(v) * f)) }

// EncodePNG encodes an image as PNG, the format the functions exchange.
func EncodePNG(img image.Image) ([]byte, error) {
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("encode png: %w", err)
	}
	return buf.Bytes(), nil
}

// InputImage reads and decodes the PNG image a function takes as its input
// img (every step after upload does).
func InputImage(c *fn.Call) (image.Image, error) {
	b, err := c.Input("img")
	if err != nil {
		return nil, err
	}
	return DecodePNG(b)
}

// DecodePNG decodes a PNG image.
func DecodePNG(b []byte) (image.Image, error) {
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("decode png of %d bytes: %w", len(b), err)
	}
	return img, nil
}

// rng is splitmix64 (Steele, Lea and Flood, 2014), written out so that
// scenes depend only on the seed, not on a library's generator.
type rng struct{ s uint64 }

func newRNG(seed uint64) *rng { return &rng{s: seed} }

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// intn returns a number in [0, n).
func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }

// float returns a number in [0, 1).
func (r *rng) float() float64 { return float64(r.next()>>11) / (1 << 53) }
