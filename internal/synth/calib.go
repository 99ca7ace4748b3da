package synth

// Calibration of the generator. Every number here is documented, with its
// reason, in docs/sintetico.md; change both together.

// regionHiresPerYear is the number of hires (A) a year of the whole region at
// Scale 1 and trend 1: the order of magnitude of the Lombardy CO flows
// (1.6-1.9 million activations a year in 2017-2024).
const regionHiresPerYear = 1.8e6

// Sectors are groups of ATECO 2007 divisions with one seasonal profile, one
// contract mix and one list of professions each.
const (
	secAgr = iota
	secFood
	secManuf
	secUtil
	secConstr
	secTrade
	secTransp
	secTourism
	secProf
	secAdmin
	secPA
	secEdu
	secHealth
	secArts
	secHousehold
	nSectors
)

// Contract kinds of the sector mix. A kind becomes a contract chain (below)
// at the hire.
const (
	kTI = iota
	kTD
	kTDSost
	kAppr
	kSommTD
	kSommTI
	kInterm
	kDom
	kCococo
	kTiroc
	kSpett
	kSport
	nKinds
)

// Age profiles: weights of the classes 15-19, 20-24, ..., 60-64, 65-70.
const (
	ageGeneral = iota
	agePermanent
	ageAppr
	ageApprQual
	ageApprAlta
	ageTiroc
	ageDomestic
	ageTeacher
	ageIntermittent
	nAgeProfiles
)

var ageClassLo = [11]int{15, 20, 25, 30, 35, 40, 45, 50, 55, 60, 65}
var ageClassHi = [11]int{19, 24, 29, 34, 39, 44, 49, 54, 59, 64, 70}

var ageProfiles = [nAgeProfiles][11]float64{
	ageGeneral:   {6, 16, 15, 12, 11, 10, 9.5, 8.5, 7, 3.5, 1.5},
	agePermanent: {1.5, 9, 15, 15, 13, 12, 11, 10, 8, 4.5, 1},
	ageAppr:      {14, 48, 38, 0, 0, 0, 0, 0, 0, 0, 0},
	ageApprQual:  {85, 15, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	ageApprAlta:  {0, 45, 55, 0, 0, 0, 0, 0, 0, 0, 0},
	ageTiroc:     {22, 42, 24, 6, 3, 2, 1, 0, 0, 0, 0},
	ageDomestic:  {0, 2, 5, 8, 10, 12, 15, 17, 16, 10, 5},
	ageTeacher:   {0, 3, 18, 18, 15, 13, 12, 10, 8, 3, 0},
	// Intermittent work is for the young (under 25) and the over 55 unless
	// a collective agreement allows it.
	ageIntermittent: {20, 36, 9, 6, 5, 4, 4, 4, 6, 4, 2},
}

// sectorDef holds what the generator knows about one sector.
type sectorDef struct {
	name   string
	share  float64            // share of the region's hires (before province multipliers)
	female float64            // probability that the worker is a woman
	ptF    float64            // part-time probability, women
	ptM    float64            // part-time probability, men
	season [12]float64        // monthly hire profile (normalised to mean 1 at load)
	kinds  [nKinds]float64    // contract mix of the hires
	divs   map[string]float64 // ATECO divisions and their weights
	// boost raises the weight of the frequent subcategories of a division
	// (others weigh 1); a division keeps its total weight.
	boost map[string]float64
	// prof lists CP2011 categories (4 components) by skill tier: low, mid,
	// high. A hire takes one unit of a category of the tier its education
	// allows (see tierByEducation).
	prof [3]map[string]float64
}

var sectors = [nSectors]sectorDef{
	secAgr: {
		name: "agricoltura", share: 3, female: 0.30, ptF: 0.17, ptM: 0.09,
		season: [12]float64{.6, .7, 1, 1.2, 1.2, 1.3, 1.2, 1, 1.6, 1.3, .6, .4},
		kinds:  kindMix(5, 86, 0, 1, 3, 0, 1, 0, 0.5, 0.5, 0, 0),
		divs:   map[string]float64{"01": 90, "02": 5, "03": 5},
		boost: map[string]float64{"01.13.10": 5, "01.21.00": 10, "01.24.00": 8, "01.41.00": 10, "01.46.00": 6,
			"01.61.00": 8, "01.19.10": 3, "01.11.10": 6},
		prof: [3]map[string]float64{
			{"8.3.1.1": 70, "8.3.1.2": 15, "8.1.3.2": 5},
			{"6.4.1.1": 20, "6.4.1.2": 25, "6.4.1.3": 10, "6.4.2.1": 25, "7.4.4.1": 5},
			{"3.2.2.1": 10, "2.3.1.3": 4, "1.3.1.1": 3},
		},
	},
	secFood: {
		name: "industria alimentare", share: 2.5, female: 0.45, ptF: 0.22, ptM: 0.07,
		season: [12]float64{1, 1, 1, 1, 1, 1.05, 1.1, .8, 1.2, 1.1, 1, .8},
		kinds:  kindMix(13, 46, 0, 4, 32, 1, 3, 0, 0, 1, 0, 0),
		divs:   map[string]float64{"10": 85, "11": 12, "12": 3},
		boost: map[string]float64{"10.71.10": 10, "10.51.20": 8, "10.13.00": 6, "10.11.00": 5, "10.73.00": 3,
			"10.82.00": 3, "11.02.10": 8, "11.05.00": 2, "11.07.00": 3},
		prof: [3]map[string]float64{
			{"8.1.3.2": 25, "8.4.3.1": 30, "8.1.3.1": 10},
			{"7.3.2.1": 25, "6.5.1.2": 15, "6.5.1.1": 10, "6.5.1.3": 10, "7.3.2.9": 15, "7.2.8.1": 10, "4.3.1.2": 5},
			{"3.1.5.4": 10, "2.5.1.2": 3, "3.3.3.4": 4},
		},
	},
	secManuf: {
		name: "manifattura", share: 12, female: 0.28, ptF: 0.22, ptM: 0.06,
		season: [12]float64{1.25, 1.05, 1.1, 1, 1, 1, .95, .45, 1.2, 1.15, 1.05, .75},
		kinds:  kindMix(17, 37, 0, 6, 35, 1, 1, 0, 0.5, 1, 0, 0),
		divs: map[string]float64{"13": 4, "14": 4, "15": 1.5, "16": 2.5, "17": 2, "18": 3, "19": 0.2, "20": 5,
			"21": 4, "22": 7, "23": 3, "24": 5, "25": 20, "26": 3, "27": 5, "28": 15, "29": 2.5, "30": 1,
			"31": 3, "32": 3, "33": 5},
		boost: map[string]float64{"25.62.00": 15, "25.11.00": 6, "25.61.00": 6, "22.29.09": 6, "22.22.00": 3},
		prof: [3]map[string]float64{
			{"8.4.3.1": 40, "8.1.3.2": 20, "8.1.3.1": 5},
			{"7.2.1.1": 15, "7.2.7.1": 10, "7.2.7.9": 10, "6.2.1.2": 8, "6.2.3.3": 10, "7.2.3.3": 6, "7.2.8.1": 8,
				"6.2.2.3": 5, "7.2.6.3": 4, "4.3.1.2": 6, "4.1.1.2": 6, "3.3.1.2": 3},
			{"3.1.3.1": 10, "2.2.1.1": 8, "3.1.3.7": 5, "2.2.1.7": 5, "3.1.5.3": 6, "2.5.1.2": 3, "3.3.3.4": 4, "3.1.3.4": 3},
		},
	},
	secUtil: {
		name: "energia, acqua e rifiuti", share: 1, female: 0.2, ptF: 0.17, ptM: 0.06,
		season: [12]float64{1.2, 1, 1, 1, 1, 1, 1, .7, 1.1, 1, 1, .9},
		kinds:  kindMix(26, 46, 0, 5, 20, 0, 0, 0, 1, 2, 0, 0),
		divs:   map[string]float64{"35": 20, "36": 10, "37": 5, "38": 55, "39": 10},
		prof: [3]map[string]float64{
			{"8.1.4.5": 50, "8.4.3.1": 10},
			{"7.1.6.2": 20, "7.4.2.3": 20, "6.1.3.6": 10, "4.1.1.2": 5},
			{"3.1.3.6": 10, "2.2.1.3": 5},
		},
	},
	secConstr: {
		name: "costruzioni", share: 6, female: 0.06, ptF: 0.28, ptM: 0.03,
		season: [12]float64{.85, 1, 1.2, 1.15, 1.15, 1.1, 1, .55, 1.15, 1.1, 1, .75},
		kinds:  kindMix(26, 55, 0, 8, 8, 0, 1, 0, 0.5, 1, 0, 0),
		divs:   map[string]float64{"41": 35, "42": 10, "43": 55},
		boost: map[string]float64{"41.20.00": 20, "43.21.01": 8, "43.22.01": 8, "43.39.01": 4, "43.34.00": 4,
			"43.99.09": 4, "43.31.00": 3},
		prof: [3]map[string]float64{
			{"8.4.2.1": 50, "8.4.2.2": 10},
			{"6.1.2.1": 25, "6.1.2.2": 10, "6.1.2.3": 8, "6.1.3.7": 15, "6.1.3.6": 12, "6.1.4.1": 8, "6.1.3.2": 5, "7.4.4.1": 5},
			{"3.1.5.2": 10, "3.1.3.5": 10, "2.2.1.6": 5},
		},
	},
	secTrade: {
		name: "commercio", share: 11, female: 0.55, ptF: 0.55, ptM: 0.22,
		season: [12]float64{1.15, .85, .9, .95, 1, 1, .95, .7, 1.05, 1.05, 1.2, 1.2},
		kinds:  kindMix(18, 54, 0, 7, 12, 0, 6, 0, 0.5, 2, 0, 0),
		divs:   map[string]float64{"45": 10, "46": 30, "47": 60},
		boost: map[string]float64{"46.90.00": 5, "46.39.20": 4, "47.11.10": 8, "47.11.20": 20, "47.11.30": 10,
			"47.11.40": 6, "47.71.10": 15, "47.72.10": 4, "47.73.10": 8, "47.54.00": 3, "47.59.10": 3, "47.30.00": 3,
			"47.24.10": 3, "47.19.10": 5},
		prof: [3]map[string]float64{
			{"8.1.3.2": 20, "8.1.3.1": 10, "8.1.3.3": 5},
			{"5.1.2.2": 45, "5.1.2.4": 15, "5.1.2.1": 8, "4.3.1.2": 10, "5.1.1.2": 3, "6.5.1.1": 4, "4.1.1.2": 5, "6.2.3.1": 5},
			{"3.3.3.4": 15, "3.3.3.5": 5, "2.5.1.5": 5, "3.3.1.2": 5},
		},
	},
	secTransp: {
		name: "trasporti e logistica", share: 7, female: 0.22, ptF: 0.33, ptM: 0.11,
		season: [12]float64{1, .9, .95, .95, 1, 1, 1, .8, 1.05, 1.1, 1.2, 1.05},
		kinds:  kindMix(16, 46, 0, 2, 31, 1, 3, 0, 0.5, 0.5, 0, 0),
		divs:   map[string]float64{"49": 40, "50": 1, "51": 2, "52": 40, "53": 17},
		boost: map[string]float64{"49.41.00": 30, "49.31.00": 10, "49.39.01": 4, "49.32.10": 2, "52.10.20": 15,
			"52.29.22": 15, "52.24.20": 10, "52.23.00": 5, "53.20.00": 20, "53.10.00": 10},
		prof: [3]map[string]float64{
			{"8.1.3.1": 35, "8.1.3.2": 25, "8.1.3.3": 15},
			{"7.4.2.3": 35, "7.4.2.2": 10, "7.4.4.4": 15, "4.3.1.2": 10, "4.4.1.3": 8, "4.3.1.3": 5},
			{"3.3.3.2": 10, "3.3.1.5": 5},
		},
	},
	secTourism: {
		name: "alloggio e ristorazione", share: 14, female: 0.55, ptF: 0.61, ptM: 0.39,
		season: [12]float64{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, // by province: see tourismCurves
		kinds:  kindMix(8, 63, 0, 6, 3, 0, 18, 0, 0, 2, 0, 0),
		divs:   map[string]float64{"55": 35, "56": 65},
		boost: map[string]float64{"55.10.00": 30, "55.20.51": 5, "55.20.30": 2, "55.30.00": 2, "56.10.11": 40,
			"56.30.00": 30, "56.10.20": 8, "56.10.30": 8, "56.29.10": 6, "56.29.20": 8, "56.21.00": 4},
		prof: [3]map[string]float64{
			{"8.1.4.2": 40, "8.1.4.1": 20},
			{"5.2.2.3": 40, "5.2.2.1": 25, "5.2.2.4": 25, "4.2.2.2": 8, "5.2.2.2": 8},
			{"3.4.1.1": 10, "5.2.1.1": 3},
		},
	},
	secProf: {
		name: "servizi professionali, ICT e finanza", share: 9, female: 0.5, ptF: 0.28, ptM: 0.09,
		season: [12]float64{1.3, 1, 1.05, 1, 1, 1, .9, .5, 1.2, 1.1, 1, .95},
		kinds:  kindMix(28, 43, 0, 8, 12, 0, 2, 0, 2, 2, 0, 0),
		divs: map[string]float64{"58": 2, "59": 2, "60": 1, "61": 3, "62": 15, "63": 3, "64": 8, "65": 3, "66": 4,
			"68": 4, "69": 12, "70": 12, "71": 10, "72": 5, "73": 7, "74": 5, "75": 1},
		boost: map[string]float64{"62.01.00": 15, "62.02.00": 10, "62.09.09": 3, "64.19.10": 15, "70.22.09": 10,
			"71.12.10": 5, "73.11.01": 4},
		prof: [3]map[string]float64{
			{"8.1.4.3": 10, "8.1.2.1": 5},
			{"4.1.1.1": 20, "4.1.1.2": 25, "4.3.2.1": 10, "4.2.2.4": 10, "3.3.1.2": 10, "3.3.1.1": 10},
			{"2.1.1.4": 20, "3.1.2.1": 10, "2.5.1.4": 10, "2.5.1.2": 10, "2.5.2.1": 5, "2.2.1.7": 5, "3.3.3.5": 8,
				"3.3.2.1": 5, "3.1.2.2": 5},
		},
	},
	secAdmin: {
		name: "servizi alle imprese", share: 9, female: 0.55, ptF: 0.66, ptM: 0.33,
		season: [12]float64{1.2, 1, 1, 1, 1, 1.05, 1, .7, 1.1, 1.05, 1, .9},
		kinds:  kindMix(14, 63, 0, 2, 13, 0, 5, 0, 1.5, 1.5, 0, 0),
		divs:   map[string]float64{"77": 5, "79": 6, "80": 15, "81": 50, "82": 24},
		boost: map[string]float64{"80.10.00": 10, "81.21.00": 30, "81.30.00": 8, "81.10.00": 6, "81.29.10": 2,
			"82.20.00": 15, "82.99.99": 5, "82.30.00": 4, "82.92.20": 5},
		prof: [3]map[string]float64{
			{"8.1.4.3": 60, "8.3.1.2": 10, "8.1.3.2": 5},
			{"4.2.2.4": 20, "5.4.8.6": 10, "4.1.1.2": 5, "4.2.2.1": 5},
			{"3.4.5.4": 5, "3.3.1.5": 5},
		},
	},
	secPA: {
		name: "pubblica amministrazione", share: 1.5, female: 0.6, ptF: 0.22, ptM: 0.11,
		season: [12]float64{1.3, .9, 1, 1, .9, .9, .9, .6, 1.5, 1.1, 1, .9},
		kinds:  kindMix(20, 76, 0, 0, 0, 0, 0, 0, 2, 2, 0, 0),
		divs:   map[string]float64{"84": 1},
		boost:  map[string]float64{"84.11.10": 20, "84.30.00": 2},
		prof: [3]map[string]float64{
			{"8.1.2.1": 20, "8.1.4.5": 10},
			{"4.1.1.2": 40, "4.1.1.3": 10, "5.4.8.2": 10},
			{"2.5.1.1": 20, "3.4.5.1": 10, "2.2.1.6": 5},
		},
	},
	secEdu: {
		name: "istruzione", share: 9, female: 0.8, ptF: 0.33, ptM: 0.22,
		season: [12]float64{.8, .8, .7, .6, .5, .4, .3, .3, 4, 1.9, 1, .7},
		kinds:  kindMix(6, 90, 0, 0, 1, 0, 0, 0, 2, 1, 0, 0),
		divs:   map[string]float64{"85": 1},
		boost: map[string]float64{"85.20.00": 25, "85.31.10": 18, "85.31.20": 12, "85.32.09": 12, "85.10.00": 15,
			"85.59.20": 6, "85.42.00": 5},
		prof: [3]map[string]float64{
			{"8.1.5.1": 60},
			{"3.4.2.2": 20, "4.1.1.2": 10, "5.4.4.2": 10},
			{"2.6.4.1": 25, "2.6.4.2": 15, "2.6.3.3": 20, "2.6.3.2": 20, "2.6.5.1": 15, "2.6.5.5": 5},
		},
	},
	secHealth: {
		name: "sanità e assistenza sociale", share: 6, female: 0.78, ptF: 0.39, ptM: 0.17,
		season: [12]float64{1.1, 1, 1, 1, 1, 1.1, 1.1, .8, 1, 1, 1, .9},
		kinds:  kindMix(20, 65, 0, 0, 10, 0, 1, 0, 2, 2, 0, 0),
		divs:   map[string]float64{"86": 50, "87": 30, "88": 20},
		boost: map[string]float64{"86.10.10": 40, "86.22.09": 5, "86.90.29": 5, "86.23.00": 5, "87.10.00": 30,
			"87.30.00": 30, "88.10.00": 20, "88.91.00": 15, "88.99.00": 20},
		prof: [3]map[string]float64{
			{"8.1.5.2": 10, "8.1.4.3": 15},
			{"5.3.1.1": 60, "5.4.4.3": 20, "4.1.1.2": 5},
			{"3.2.1.1": 45, "3.2.1.2": 15, "2.4.1.2": 10, "2.4.1.1": 5, "3.4.5.1": 8, "3.4.5.2": 8},
		},
	},
	secArts: {
		name: "sport, cultura e servizi alla persona", share: 5, female: 0.5, ptF: 0.50, ptM: 0.39,
		season: [12]float64{.9, .9, 1, 1.1, 1.2, 1.3, 1.2, .7, 1, 1, .9, .9},
		kinds:  kindMix(14, 43, 0, 5, 4, 0, 12, 0, 3, 2, 12, 5),
		divs:   map[string]float64{"90": 10, "91": 3, "92": 5, "93": 40, "94": 12, "95": 5, "96": 25},
		boost: map[string]float64{"90.01.01": 5, "93.11.20": 5, "93.13.00": 10, "93.29.90": 8, "93.21.00": 3,
			"93.11.30": 5, "93.12.00": 8, "96.02.01": 25, "96.02.02": 10, "96.01.10": 5, "96.04.10": 4},
		prof: [3]map[string]float64{
			{"8.2.1.1": 30, "8.1.4.3": 10},
			{"5.4.3.1": 25, "5.4.3.2": 15, "5.4.8.7": 8},
			{"3.4.2.4": 20, "2.5.5.4": 8, "3.4.1.3": 10},
		},
	},
	secHousehold: {
		name: "famiglie datrici di lavoro domestico", share: 4, female: 0.88, ptF: 0.61, ptM: 0.50,
		season: [12]float64{1.1, 1, 1, 1, 1, 1, 1, .8, 1.1, 1, 1, 1},
		kinds:  kindMix(0, 0, 0, 0, 0, 0, 0, 100, 0, 0, 0, 0),
		divs:   map[string]float64{"97": 1},
		prof: [3]map[string]float64{
			{"8.2.2.1": 50},
			{"5.4.4.3": 45, "5.4.4.2": 10},
			{"5.4.4.1": 10},
		},
	},
}

// kindMix lists the contract mix of a sector in the order of the k* kinds.
func kindMix(ti, td, tdSost, appr, sommTD, sommTI, interm, dom, cococo, tiroc, spett, sport float64) [nKinds]float64 {
	return [nKinds]float64{ti, td, tdSost, appr, sommTD, sommTI, interm, dom, cococo, tiroc, spett, sport}
}

// tdSostShare is the share of fixed-term hires that replace an absent
// worker (A.02.01), higher where absences are covered by law.
var tdSostShare = [nSectors]float64{
	secEdu: 0.25, secHealth: 0.2, secPA: 0.15,
	secAgr: 0.01, secFood: 0.05, secManuf: 0.06, secUtil: 0.06, secConstr: 0.02, secTrade: 0.08,
	secTransp: 0.05, secTourism: 0.03, secProf: 0.08, secAdmin: 0.06, secArts: 0.04,
}

// tourismCurves are the monthly hire profiles of accommodation and food
// services: city, lake and mountain tourism. A province mixes them.
var tourismCurves = [3][12]float64{
	{.85, .9, 1, 1.1, 1.15, 1.15, 1, .75, 1.1, 1.05, .95, .95}, // city
	{.3, .4, 1, 1.8, 1.9, 2, 1.6, 1, .8, .5, .3, .4},           // lake
	{.7, .6, .5, .4, .7, 2, 1.9, .9, .5, .4, 1, 2.4},           // mountain: summer and the ski season from December
}

// provCalib holds what the generator knows about one province.
type provCalib struct {
	code      string
	share     float64         // share of the region's hires
	foreign   float64         // share of hires of foreign citizens
	mul       map[int]float64 // sector multipliers of the regional mix
	tourism   [3]float64      // weights of the city, lake and mountain tourism curves
	neighbors []string        // Lombard provinces of residence of in-commuters
	outside   []string        // ISTAT codes of comuni outside Lombardy where some in-commuters live
}

// provinces are calibrated on employment (ISTAT, 2019-2023) with hires
// concentrated in Milano (services, agencies) and in the tourist provinces.
var provinces = []provCalib{
	{code: "012", share: 6.6, foreign: 0.18, mul: map[int]float64{secManuf: 1.3, secTransp: 1.4, secProf: 0.7},
		tourism: [3]float64{0.7, 0.3, 0}, neighbors: []string{"015", "013"}, outside: []string{"003106", "103072"}},
	{code: "013", share: 4.6, foreign: 0.18, mul: map[int]float64{secTourism: 1.5, secManuf: 1.2, secProf: 0.6},
		tourism: [3]float64{0.4, 0.6, 0}, neighbors: []string{"015", "108", "097", "012"}},
	{code: "014", share: 2.1, foreign: 0.24, mul: map[int]float64{secTourism: 2.1, secAgr: 1.8, secFood: 2.2, secProf: 0.4,
		secAdmin: 0.6, secManuf: 0.6, secConstr: 1.2, secTransp: 0.8},
		tourism: [3]float64{0.15, 0, 0.85}, neighbors: []string{"097", "013", "016"}, outside: []string{"022205"}},
	{code: "015", share: 42.2, foreign: 0.23, mul: map[int]float64{secProf: 1.7, secAdmin: 1.3, secManuf: 0.7, secAgr: 0.3,
		secTransp: 1.2, secFood: 0.6, secConstr: 0.9},
		tourism: [3]float64{1, 0, 0}, neighbors: []string{"108", "012", "018", "098", "016", "013"},
		outside: []string{"003106", "033032", "006003"}},
	{code: "016", share: 10.2, foreign: 0.21, mul: map[int]float64{secManuf: 1.4, secTransp: 1.2, secProf: 0.7},
		tourism: [3]float64{0.8, 0, 0.2}, neighbors: []string{"015", "017", "097", "108"}},
	{code: "017", share: 11.7, foreign: 0.24, mul: map[int]float64{secManuf: 1.35, secAgr: 1.4, secTourism: 1.2, secFood: 1.2,
		secProf: 0.6},
		tourism: [3]float64{0.4, 0.4, 0.2}, neighbors: []string{"016", "019", "020"}, outside: []string{"023091"}},
	{code: "018", share: 4.1, foreign: 0.20, mul: map[int]float64{secAgr: 2, secHealth: 1.4, secEdu: 1.2, secManuf: 0.9,
		secProf: 0.5},
		tourism: [3]float64{1, 0, 0}, neighbors: []string{"015", "098"}, outside: []string{"006003", "033032", "003106"}},
	{code: "019", share: 3.0, foreign: 0.24, mul: map[int]float64{secAgr: 2.3, secFood: 2, secManuf: 1.2, secProf: 0.4},
		tourism: [3]float64{1, 0, 0}, neighbors: []string{"017", "098", "016"}, outside: []string{"033032", "034027"}},
	{code: "020", share: 3.6, foreign: 0.26, mul: map[int]float64{secAgr: 2.5, secFood: 2, secManuf: 1.3, secProf: 0.4},
		tourism: [3]float64{1, 0, 0}, neighbors: []string{"019", "017"}, outside: []string{"023091", "034027"}},
	{code: "097", share: 2.7, foreign: 0.18, mul: map[int]float64{secManuf: 1.5, secTourism: 1.1, secProf: 0.5},
		tourism: [3]float64{0.5, 0.4, 0.1}, neighbors: []string{"013", "108", "016", "014"}},
	{code: "098", share: 2.2, foreign: 0.24, mul: map[int]float64{secAgr: 1.8, secTransp: 1.6, secFood: 1.5, secProf: 0.4},
		tourism: [3]float64{1, 0, 0}, neighbors: []string{"015", "018", "019"}, outside: []string{"033032"}},
	{code: "108", share: 7.0, foreign: 0.19, mul: map[int]float64{secManuf: 1.3, secTrade: 1.1, secProf: 0.9},
		tourism: [3]float64{1, 0, 0}, neighbors: []string{"015", "013", "097"}},
}

// Residence of the workers: the province of the workplace, another Lombard
// province (commuters), or a comune of a bordering region.
const (
	resOtherProvince = 0.12
	resOutside       = 0.02
)

// comuneJobs weighs the comuni as workplaces: residents in thousands (ISTAT,
// rounded) of the larger comuni, multiplied where jobs concentrate
// (capoluoghi, business districts). Comuni not listed weigh between 1 and 5.
var comuneJobs = map[string]float64{
	"012026": 83, "012034": 18, "012040": 21, "012042": 14, "012070": 53, "012092": 14, "012119": 39, "012123": 17,
	"012127": 19, "012133": 79 * 1.6,
	"013041": 40, "013065": 7, "013075": 83 * 1.6, "013095": 16, "013143": 25, "013145": 3, "013165": 11, "013250": 4,
	"013252": 5,
	"014004": 1.6, "014009": 4, "014012": 1, "014018": 7, "014019": 2.5, "014033": 4.5, "014035": 0.5, "014037": 6.8,
	"014045": 12, "014060": 4, "014061": 21 * 1.6, "014065": 4.6, "014066": 9, "014071": 4, "014072": 3.5,
	"015002": 32, "015009": 19, "015011": 9 * 1.5, "015027": 36, "015036": 27, "015070": 34, "015074": 23, "015077": 75,
	"015081": 47, "015093": 34, "015105": 27, "015118": 60, "015130": 24, "015142": 18, "015146": 1370 * 2,
	"015154": 17, "015159": 14, "015166": 47, "015168": 28, "015171": 23, "015175": 37, "015182": 51, "015189": 42,
	"015192": 32 * 1.5, "015195": 39, "015205": 36 * 1.5, "015206": 21, "015209": 81, "015221": 12,
	"016004": 18, "016024": 120 * 1.6, "016053": 16, "016091": 23, "016183": 21, "016198": 25, "016219": 30,
	"017029": 198 * 1.6, "017052": 19, "017061": 15, "017067": 29, "017078": 19, "017081": 17, "017089": 1.2,
	"017092": 16, "017096": 22, "017103": 13, "017113": 26, "017133": 20, "017148": 1.7, "017166": 19, "017170": 10.5,
	"017179": 8,
	"018024": 9, "018037": 6.5, "018102": 15, "018110": 71 * 1.6, "018153": 11, "018177": 62, "018182": 39,
	"019021": 15, "019035": 34, "019036": 71 * 1.6, "019098": 9,
	"020017": 23, "020021": 15, "020026": 10, "020030": 49 * 1.6, "020045": 16, "020065": 21, "020066": 20,
	"097013": 14, "097042": 47 * 1.6, "097048": 15, "097083": 11,
	"098010": 15, "098019": 16, "098031": 45 * 1.6, "098050": 13,
	"108001": 16, "108012": 35, "108019": 39, "108023": 42, "108027": 35, "108028": 46, "108033": 123 * 1.6,
	"108039": 45, "108050": 26,
}

// comuneTourism multiplies the weight of the tourist comuni for the
// accommodation and food services sector.
var comuneTourism = map[string]float64{
	"014037": 12, "014009": 10, "014071": 5, "014072": 5, "014035": 15, "014012": 4, "014004": 10, "014019": 4,
	"017148": 10, "017089": 12, "017179": 10, "017067": 3, "017170": 3,
	"013250": 8, "013252": 8, "013145": 6, "013065": 5, "015146": 1.2,
}

// birthplacesElsewhere are Belfiore codes of comuni outside Lombardy where
// Italian workers of Lombardy were born (fiscal codes only: the CO carries
// no birthplace field).
var birthplacesElsewhere = []string{"F839", "G273", "H501", "A662", "L219", "C351", "D643", "H224", "D086", "H703",
	"B963", "L049", "E506", "F158", "A089"}

// country is a foreign citizenship with its weight among the foreign
// workers hired and the Belfiore code of its state (for fiscal codes).
type country struct {
	code string // ANPAL cod_cittadinanza
	z    string // Belfiore code of the state
	w    float64
}

// foreignGeneral is the mix of the foreign citizens hired outside domestic
// work (Lombardy, order of magnitude of the CO flows 2017-2024).
var foreignGeneral = []country{
	{"235", "Z129", 13}, {"201", "Z100", 9}, {"436", "Z330", 10}, {"243", "Z138", 5}, {"419", "Z336", 7},
	{"344", "Z236", 5}, {"450", "Z343", 5}, {"330", "Z222", 5}, {"615", "Z611", 4}, {"609", "Z605", 3},
	{"323", "Z216", 3}, {"305", "Z249", 3}, {"311", "Z209", 3}, {"254", "Z140", 3}, {"443", "Z335", 3},
	{"314", "Z210", 3}, {"460", "Z352", 2}, {"605", "Z602", 2}, {"423", "Z318", 2}, {"404", "Z313", 1.5},
	{"422", "Z317", 1.5}, {"435", "Z329", 1}, {"233", "Z127", 1}, {"209", "Z104", 1}, {"517", "Z506", 1},
	{"272", "Z160", 1}, {"253", "Z148", 1}, {"604", "Z601", 0.5}, {"608", "Z604", 0.5}, {"602", "Z600", 1},
	{"241", "Z133", 0.5}, {"216", "Z112", 0.5}, {"215", "Z110", 0.3}, {"239", "Z131", 0.3}, {"516", "Z505", 1},
	{"514", "Z504", 0.5}, {"351", "Z243", 0.5}, {"360", "Z254", 0.5}, {"409", "Z354", 0.5},
}

// foreignDomestic is the mix of the foreign citizens hired as domestic
// workers.
var foreignDomestic = []country{
	{"243", "Z138", 20}, {"235", "Z129", 15}, {"615", "Z611", 12}, {"323", "Z216", 10}, {"254", "Z140", 10},
	{"311", "Z209", 8}, {"609", "Z605", 6}, {"360", "Z254", 4}, {"517", "Z506", 3}, {"201", "Z100", 3},
	{"436", "Z330", 3}, {"605", "Z602", 2}, {"604", "Z601", 2}, {"245", "Z154", 2},
}

// foreignDomesticShare is the share of foreign citizens among domestic
// workers (INPS, Osservatorio lavoro domestico: about 70% in the North).
const foreignDomesticShare = 0.70

// Education levels (ANPAL 0-12) of the workers hired: Italians and
// foreigners. Younger workers have a ceiling (see eduCap).
var eduItalian = [13]float64{1, 2, 32, 9, 34, 0.6, 0.4, 16, 1.5, 1.5, 0.5, 0.7, 0.8}
var eduForeign = [13]float64{8, 9, 40, 6, 24, 0.2, 0.3, 9, 0.5, 0.5, 0.2, 0.2, 0.3}

// eduMissing is the share of communications without the education level.
const eduMissing = 0.05

// tierByEducation is the probability of the low, mid and high skill tiers
// of the profession given the education group (1 up to lower secondary,
// 2 upper secondary, 3 tertiary).
var tierByEducation = [4][3]float64{
	{0.60, 0.38, 0.02}, // unknown
	{0.60, 0.38, 0.02},
	{0.28, 0.60, 0.12},
	{0.08, 0.37, 0.55},
}

// Shares of the optional or alternative forms a field takes.
const (
	professionMissing  = 0.04 // professione empty
	professionCategory = 0.08 // professione at level 4 instead of 5
	atecoDivision      = 0.06 // employers sending their ATECO at division level
	comuneBelfiore     = 0.08 // rows with Belfiore instead of ISTAT comune codes
	protectedYes       = 0.02 // categoria_protetta S
	protectedMissing   = 0.08 // categoria_protetta empty
	partTimeV          = 0.15 // vertical part time among part timers
	partTimeM          = 0.15 // mixed part time among part timers
	orarioUnknownOD    = 0.3  // open data: empty MODALITALAVORO instead of NON DEFINITO
)

// Trend of hires by year (the 2020 and 2021 months have their own factors).
func yearTrend(y int) float64 {
	switch {
	case y <= 2014:
		return 0.86
	case y == 2015:
		return 0.92
	case y == 2016:
		return 0.90
	case y == 2017:
		return 0.96
	case y == 2018:
		return 1.01
	case y == 2019, y == 2020, y == 2021:
		return 1.00
	case y == 2022:
		return 1.06
	case y == 2023:
		return 1.07
	case y == 2024:
		return 1.08
	}
	f := 1.08
	for i := 2025; i <= y; i++ {
		f *= 1.005
	}
	return f
}

// covidHires are the monthly multipliers of hires in 2020 and 2021: the
// lockdown of March-May 2020, the second wave in the autumn, the recovery
// of 2021.
var covidHires = map[int][12]float64{
	2020: {1, .97, .55, .22, .5, .8, .88, .88, .85, .85, .72, .72},
	2021: {.78, .8, .88, .9, 1.02, 1.1, 1.05, 1.03, 1.02, 1.02, 1.02, 1},
}

// covidTourism further multiplies tourist hires in the months when ski
// areas and restaurants were closed.
var covidTourism = map[int][12]float64{
	2020: {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, .6, .4},
	2021: {.4, .4, .5, .6, 1, 1, 1, 1, 1, 1, 1, 1},
}

// The freeze of dismissals (DL 18/2020 and following): most dismissals of
// permanent workers that would have fallen in it are postponed.
var (
	freezeFrom     = civilDay(2020, 3, 17)
	freezeTo       = civilDay(2021, 6, 30)
	freezePostpone = 0.8
)

// Warm-up: the simulation starts before From so that relationships opened
// earlier end, extend and transform inside the window, as in a real
// extraction. Short contracts need a few years; permanent ones decades.
const (
	warmupAllMonths  = 36
	warmupLongMonths = 12 * 25
)

// Contract chains: a contract type as a relationship lives it. A chain is
// written with the first of its codes valid at each event date, so that a
// relationship hired before a code changed (A.04.00 -> A.04.02 in 2013)
// carries a valid code on every event.
const (
	chTI = iota
	chTD
	chTDSost
	chApprProf
	chApprQual
	chApprAlta
	chSommTD
	chSommTI
	chIntermTD
	chIntermTI
	chDomTI
	chDomTD
	chCococo
	chTiroc
	chSpett
	chSport
	nChains
)

// lengthClass is a range of planned lengths in days, inclusive, and its
// weight.
type lengthClass struct {
	lo, hi int32
	w      float64
}

// durComp is one exponential component of the duration of open-ended
// relationships.
type durComp struct{ w, meanDays float64 }

// Working time of a chain: normal (full or part time) or not applicable
// (intermittent and parasubordinate work).
const (
	orarioNormal = iota
	orarioNone
)

// chainDef is the life model of a contract chain.
type chainDef struct {
	name   string
	codes  []string // preference order: the first valid at the event date is written
	hasEnd bool     // hires carry a planned end

	// Fixed-term life: periods that end early, are extended (P), are
	// transformed to permanent (T TD_TI) or reach their planned end.
	lengths  []lengthClass
	pEarly   float64    // per period: early termination (communicated)
	pExt     [2]float64 // extension at the planned end: first, later ones
	maxP     int        // most extensions
	maxDays  int32      // longest total planned length
	pNatComm float64    // natural end communicated (C FINE_TERMINE), fixed-term codes only; others always
	pTDTI    [2]float64 // per period: transformation to permanent, first and later periods

	// Open-ended life.
	open     []durComp
	pAPTI    float64 // apprenticeship transformed to permanent
	pOrarioT float64 // one PT_FT or FT_PT transformation
	pAltroT  float64 // one transformation of kind ALTRO

	age    int
	orario int
	// Reasons of a communicated termination (DIMISSIONI, LICENZIAMENTO,
	// ALTRO): early ends of fixed-term and ends of open-ended ones.
	reasons [3]float64
}

var (
	lenTD     = []lengthClass{{1, 1, 8}, {2, 7, 9}, {8, 31, 16}, {32, 92, 25}, {93, 183, 20}, {184, 366, 18}, {367, 730, 4}}
	lenSomm   = []lengthClass{{1, 1, 10}, {2, 7, 22}, {8, 31, 33}, {32, 92, 25}, {93, 183, 8}, {184, 366, 2}}
	lenInterm = []lengthClass{{1, 7, 10}, {8, 31, 15}, {32, 92, 30}, {93, 183, 25}, {184, 366, 20}}
	lenCococo = []lengthClass{{32, 92, 20}, {93, 183, 35}, {184, 366, 40}, {367, 730, 5}}
	lenTiroc  = []lengthClass{{32, 92, 25}, {93, 183, 55}, {184, 366, 20}}
	lenSpett  = []lengthClass{{1, 1, 45}, {2, 7, 35}, {8, 31, 15}, {32, 92, 5}}
	lenSport  = []lengthClass{{32, 92, 20}, {93, 183, 40}, {184, 300, 40}}
	lenDomTD  = []lengthClass{{8, 31, 20}, {32, 92, 40}, {93, 183, 25}, {184, 366, 15}}
)

var chains = [nChains]chainDef{
	chTI: {name: "tempo indeterminato", codes: []string{"A.01.00"},
		open: []durComp{{0.30, 200}, {0.25, 3 * 365}, {0.45, 15 * 365}}, pOrarioT: 0.16, pAltroT: 0.03,
		age: agePermanent, reasons: [3]float64{0.52, 0.33, 0.15}},
	chTD: {name: "tempo determinato", codes: []string{"A.02.00"}, hasEnd: true, lengths: lenTD,
		pEarly: 0.18, pExt: [2]float64{0.42, 0.50}, maxP: 4, maxDays: 730, pNatComm: 0.35,
		pTDTI: [2]float64{0.12, 0.16}, age: ageGeneral, reasons: [3]float64{0.5, 0.25, 0.25}},
	chTDSost: {name: "tempo determinato per sostituzione", codes: []string{"A.02.01"}, hasEnd: true, lengths: lenTD,
		pEarly: 0.14, pExt: [2]float64{0.40, 0.48}, maxP: 4, maxDays: 730, pNatComm: 0.35,
		pTDTI: [2]float64{0.05, 0.08}, age: ageGeneral, reasons: [3]float64{0.5, 0.25, 0.25}},
	chApprProf: {name: "apprendistato professionalizzante", codes: []string{"A.03.09", "A.03.02"},
		open: []durComp{{0.4, 250}, {0.6, 4 * 365}}, pAPTI: 0.5, pOrarioT: 0.05,
		age: ageAppr, reasons: [3]float64{0.6, 0.25, 0.15}},
	chApprQual: {name: "apprendistato per la qualifica", codes: []string{"A.03.08", "A.03.01"},
		open: []durComp{{0.5, 200}, {0.5, 3 * 365}}, pAPTI: 0.3, pOrarioT: 0.02,
		age: ageApprQual, reasons: [3]float64{0.6, 0.2, 0.2}},
	chApprAlta: {name: "apprendistato di alta formazione", codes: []string{"A.03.10", "A.03.03"},
		open: []durComp{{0.3, 300}, {0.7, 4 * 365}}, pAPTI: 0.45, pOrarioT: 0.02,
		age: ageApprAlta, reasons: [3]float64{0.6, 0.2, 0.2}},
	chSommTD: {name: "somministrazione a termine", codes: []string{"A.06.01"}, hasEnd: true, lengths: lenSomm,
		pEarly: 0.10, pExt: [2]float64{0.63, 0.68}, maxP: 6, maxDays: 730, pNatComm: 0.60,
		age: ageGeneral, reasons: [3]float64{0.45, 0.25, 0.30}},
	chSommTI: {name: "somministrazione a tempo indeterminato", codes: []string{"A.06.00"},
		open: []durComp{{0.3, 365}, {0.7, 5 * 365}}, pOrarioT: 0.05,
		age: agePermanent, reasons: [3]float64{0.5, 0.3, 0.2}},
	chIntermTD: {name: "intermittente a termine", codes: []string{"A.05.02", "A.05.01"}, hasEnd: true, lengths: lenInterm,
		pEarly: 0.15, pExt: [2]float64{0.30, 0.35}, maxP: 3, maxDays: 730,
		age: ageIntermittent, orario: orarioNone, reasons: [3]float64{0.5, 0.2, 0.3}},
	chIntermTI: {name: "intermittente a tempo indeterminato", codes: []string{"A.05.02", "A.05.00"},
		open: []durComp{{0.5, 180}, {0.5, 2 * 365}},
		age:  ageGeneral, orario: orarioNone, reasons: [3]float64{0.5, 0.3, 0.2}},
	chDomTI: {name: "lavoro domestico", codes: []string{"A.04.02", "A.04.00"},
		open: []durComp{{0.4, 180}, {0.6, 3 * 365}}, pOrarioT: 0.05,
		age: ageDomestic, reasons: [3]float64{0.40, 0.35, 0.25}},
	chDomTD: {name: "lavoro domestico a termine", codes: []string{"A.04.02", "A.04.01"}, hasEnd: true, lengths: lenDomTD,
		pEarly: 0.2, pExt: [2]float64{0.3, 0.3}, maxP: 3, maxDays: 730,
		age: ageDomestic, reasons: [3]float64{0.4, 0.35, 0.25}},
	chCococo: {name: "collaborazione coordinata e continuativa", codes: []string{"B.03.00", "B.01.00"}, hasEnd: true,
		lengths: lenCococo, pEarly: 0.1, pExt: [2]float64{0.2, 0.2}, maxP: 2, maxDays: 1095,
		age: ageGeneral, orario: orarioNone, reasons: [3]float64{0.5, 0.2, 0.3}},
	chTiroc: {name: "tirocinio", codes: []string{"C.01.00"}, hasEnd: true, lengths: lenTiroc,
		pEarly: 0.15, pExt: [2]float64{0.25, 0.1}, maxP: 1, maxDays: 365,
		age: ageTiroc, reasons: [3]float64{0.6, 0.1, 0.3}},
	chSpett: {name: "lavoro autonomo nello spettacolo", codes: []string{"G.03.00"}, hasEnd: true, lengths: lenSpett,
		pEarly: 0.02, pExt: [2]float64{0.05, 0.05}, maxP: 1, maxDays: 365,
		age: ageGeneral, orario: orarioNone, reasons: [3]float64{0.4, 0.2, 0.4}},
	chSport: {name: "collaborazione sportiva", codes: []string{"B.04.00"}, hasEnd: true, lengths: lenSport,
		pEarly: 0.05, pExt: [2]float64{0.1, 0.1}, maxP: 1, maxDays: 365,
		age: ageGeneral, orario: orarioNone, reasons: [3]float64{0.4, 0.2, 0.4}},
}

// sportFrom is when sports collaborations got their own contract code
// (D.Lgs. 36/2021 in force on 2023-07-01); earlier ones are co.co.co.
var sportFrom = civilDay(2023, 7, 1)

// Transformations and terminations, per relationship.
const (
	// In the month of a transformation or termination of a permanent
	// relationship, the share moved to the last day of the month, and the
	// share of those between November and January moved to 31 December.
	monthEndSnap = 0.30
	decemberSnap = 0.15
	// Planned ends: share snapped to the end of their month, and share of
	// autumn hires ending on 31 December.
	plannedMonthEnd = 0.40
	plannedDec31    = 0.30
)

// Retirement: the age at which an open-ended relationship of an older
// worker ends with PENSIONAMENTO (early retirement 62-66, old-age 67).
var retireAges = []struct {
	age int
	w   float64
}{{62, 0.08}, {63, 0.07}, {64, 0.1}, {65, 0.1}, {66, 0.05}, {67, 0.6}}

// Anomalies of the files, as shares of the rows of the canonical format.
const (
	rectifiedShare = 0.010 // rows rectified by an R
	cancelledShare = 0.005 // X rows (each cancels a communication sent by mistake)
	phantomShareX  = 0.6   // share of the X that cancel a whole hire (the worker never started)
	resendPerDirty = 0.1   // exact resends per unit of Dirty
)
