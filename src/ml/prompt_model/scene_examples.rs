//! Worked examples of scene plans, shown to the prompt model before the
//! real product (few-shot). Written for this project; none describes a
//! product of the test titles' hold-out split. The suggestion pipeline
//! shows the [`SHOWN_EXAMPLES`] closest to the product when a relevance
//! model is present, else the first ones.

/// A worked example: a product and the background plan written for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SceneExample {
    /// The product.
    pub product: &'static str,
    /// Setting, surface, props, lighting, mood.
    pub plan: [&'static str; 5],
}

/// How many examples go into one prompt.
pub const SHOWN_EXAMPLES: usize = 3;

const fn ex(product: &'static str, plan: [&'static str; 5]) -> SceneExample {
    SceneExample { product, plan }
}

/// The examples; the first [`SHOWN_EXAMPLES`] are the defaults.
pub const SCENE_EXAMPLES: [SceneExample; 24] = [
    ex(
        "Ceramic coffee mug 350 ml",
        [
            "a sunlit kitchen",
            "a rustic wooden table",
            "coffee beans and a small potted plant",
            "soft morning sunlight",
            "warm and cozy",
        ],
    ),
    ex(
        "Waterproof hiking boots for men",
        [
            "a mountain trail",
            "a mossy rock",
            "a backpack and pine cones",
            "golden hour light",
            "adventurous",
        ],
    ),
    ex(
        "Lavender body lotion 400 ml",
        [
            "a bright bathroom",
            "a white marble counter",
            "folded towels and lavender sprigs",
            "soft window light",
            "fresh and calm",
        ],
    ),
    ex(
        "Wireless noise-cancelling headphones",
        [
            "a modern home studio",
            "a dark oak desk",
            "a laptop and a vinyl record",
            "blue neon accent light",
            "calm and focused",
        ],
    ),
    ex(
        "Organic green tea 100 bags",
        [
            "a Japanese tea room",
            "a bamboo mat",
            "a clay teapot and fresh tea leaves",
            "soft diffused daylight",
            "serene",
        ],
    ),
    ex(
        "Extra virgin olive oil 1 L",
        [
            "a Mediterranean kitchen",
            "a worn wooden chopping board",
            "ripe tomatoes, basil and a loaf of bread",
            "warm afternoon sun",
            "rustic and homely",
        ],
    ),
    ex(
        "Craft IPA beer 6 pack",
        [
            "a backyard barbecue",
            "a weathered picnic table",
            "a bowl of pretzels and fresh hops",
            "golden sunset light",
            "relaxed and social",
        ],
    ),
    ex(
        "Smartwatch fitness tracker",
        [
            "a city running track",
            "a concrete ledge",
            "a water bottle and earbuds",
            "crisp early morning light",
            "energetic",
        ],
    ),
    ex(
        "Women's wool winter coat",
        [
            "a snowy city street",
            "a cobblestone pavement",
            "shop windows with fairy lights",
            "soft overcast light",
            "elegant",
        ],
    ),
    ex(
        "Solid oak bookshelf",
        [
            "a quiet living room",
            "a light parquet floor",
            "potted plants and a reading chair",
            "warm lamp light",
            "calm and homely",
        ],
    ),
    ex(
        "Non-stick frying pan 28 cm",
        [
            "a modern kitchen",
            "a granite countertop",
            "eggs, fresh herbs and a wooden spatula",
            "bright natural daylight",
            "fresh and practical",
        ],
    ),
    ex(
        "Yoga mat 6 mm",
        [
            "a calm studio with large windows",
            "a light wooden floor",
            "a water bottle and a rolled towel",
            "soft morning light",
            "peaceful",
        ],
    ),
    ex(
        "Wooden building blocks for toddlers",
        [
            "a playroom",
            "a soft pastel rug",
            "picture books and a toy train",
            "bright cheerful daylight",
            "playful",
        ],
    ),
    ex(
        "Dry dog food 10 kg",
        [
            "a sunny garden",
            "green grass",
            "a tennis ball and a leash",
            "warm afternoon light",
            "happy",
        ],
    ),
    ex(
        "A5 dotted notebook",
        [
            "a tidy study",
            "a light birch desk",
            "pens, a cup of tea and a small plant",
            "soft daylight",
            "focused",
        ],
    ),
    ex(
        "Sterling silver pendant necklace",
        [
            "a boutique dressing table",
            "a velvet cushion",
            "rose petals and a perfume bottle",
            "soft warm spotlight",
            "romantic",
        ],
    ),
    ex(
        "Expandable garden hose 30 m",
        [
            "a vegetable garden",
            "a stone path",
            "a watering can and tomato plants",
            "bright summer sun",
            "fresh",
        ],
    ),
    ex(
        "Red wine Cabernet Sauvignon 750 ml",
        [
            "a vineyard terrace at dusk",
            "a stone table",
            "wine glasses, grapes and cheese",
            "golden sunset glow",
            "elegant",
        ],
    ),
    ex(
        "RGB mechanical gaming keyboard",
        [
            "a gamer's room",
            "a black desk mat",
            "a gaming mouse and a headset",
            "purple and blue LED glow",
            "intense",
        ],
    ),
    ex(
        "Scented soy candle",
        [
            "a cozy bedroom",
            "a wooden nightstand",
            "a book and a knitted blanket",
            "warm evening light",
            "relaxing",
        ],
    ),
    ex(
        "Lightweight running shoes",
        [
            "a city park at dawn",
            "an asphalt path",
            "autumn leaves and a park bench",
            "soft morning light",
            "energetic",
        ],
    ),
    ex(
        "Three-seater linen sofa",
        [
            "a loft apartment",
            "a wooden floor with a wool rug",
            "a coffee table with magazines",
            "warm evening light",
            "inviting",
        ],
    ),
    ex(
        "Stainless steel water bottle 1 L",
        [
            "a gym",
            "a rubber floor",
            "dumbbells and a towel",
            "bright overhead light",
            "energetic",
        ],
    ),
    ex(
        "Kids' rain jacket",
        [
            "a park after the rain",
            "a wet gravel path",
            "puddles and yellow leaves",
            "soft silver daylight",
            "cheerful",
        ],
    ),
];
