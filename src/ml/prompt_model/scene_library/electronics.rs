//! Library settings: electronics: phones, audio, laptops, cameras, smart home, gaming.

use super::{entry, SettingEntry};

/// The electronics settings.
pub const ELECTRONICS: &[SettingEntry] = &[
    entry(
        "a sleek modern workspace",
        &[
            "a white oak desk",
            "a matte black desk",
            "a grey felt desk mat",
        ],
        &[
            "a small succulent",
            "a sprig of dried eucalyptus",
            "a small ceramic dish",
            "window blind shadows",
        ],
    ),
    entry(
        "a neon-lit gaming room",
        &[
            "a glossy black desk",
            "a dark ribbed desk mat",
            "a black carbon shelf",
        ],
        &[
            "purple and blue neon strips",
            "acoustic foam panels",
            "a small potted cactus",
            "glowing led light strips",
        ],
    ),
    entry(
        "a futuristic tech lab",
        &[
            "a brushed aluminium table",
            "a glossy white plinth",
            "a glass tabletop",
        ],
        &[
            "glowing circuit patterns",
            "thin light beams",
            "chrome geometric shapes",
            "holographic reflections",
        ],
    ),
    entry(
        "a cosy music studio",
        &["a dark oak desk", "a woven wool rug", "a walnut sideboard"],
        &[
            "a stack of vinyl records",
            "acoustic wall panels",
            "a small monstera",
            "warm fairy lights",
        ],
    ),
    entry(
        "a bright modern living room",
        &[
            "a white lacquered sideboard",
            "a light oak shelf",
            "a grey stone coffee table",
        ],
        &[
            "a leafy fiddle leaf fig",
            "a vase of dried flowers",
            "linen cushions",
            "a soft grey throw",
        ],
    ),
    entry(
        "a photographer's loft studio",
        &[
            "a weathered wooden crate",
            "a dark slate table",
            "a worn leather trunk",
        ],
        &[
            "a rolled canvas backdrop",
            "a softbox glow",
            "a coil of leather cord",
            "a brass compass",
        ],
    ),
    entry(
        "a neon city at night",
        &[
            "a wet asphalt rooftop",
            "a glass balcony ledge",
            "a concrete parapet",
        ],
        &[
            "neon bokeh lights",
            "rain droplets",
            "a glowing city skyline",
            "reflections in puddles",
        ],
    ),
    entry(
        "a sunlit coworking space",
        &[
            "a long oak communal table",
            "a white standing desk",
            "a concrete bar counter",
        ],
        &[
            "a cup of flat white",
            "hanging pendant lights",
            "potted trailing plants",
            "a bowl of fresh fruit",
        ],
    ),
    entry(
        "a dark tech showroom",
        &[
            "a black glass plinth",
            "a glossy dark floor",
            "a brushed steel pedestal",
        ],
        &[
            "thin blue light lines",
            "soft reflections",
            "geometric shadows",
            "dust floating in beams",
        ],
    ),
    entry(
        "a cosy living room at night",
        &[
            "a walnut media console",
            "a deep velvet sofa cushion",
            "a thick wool rug",
        ],
        &[
            "a flickering fireplace",
            "a bowl of popcorn",
            "a knitted throw blanket",
            "warm fairy lights",
        ],
    ),
    entry(
        "a calm modern bedroom",
        &[
            "a walnut bedside table",
            "a crisp white duvet",
            "a marble nightstand top",
        ],
        &[
            "a small vase of wildflowers",
            "a stack of paperbacks",
            "a sprig of eucalyptus",
            "soft linen curtains",
        ],
    ),
    entry(
        "a cosy vinyl listening corner",
        &[
            "a walnut sideboard",
            "a low teak console",
            "a worn leather ottoman",
        ],
        &[
            "a stack of vinyl records",
            "a spinning turntable",
            "a glowing tube amplifier",
            "a potted fern",
        ],
    ),
    entry(
        "a bright home gym corner",
        &[
            "a wooden plyo box",
            "a black rubber gym mat",
            "a low wooden bench",
        ],
        &[
            "a coiled skipping rope",
            "a kettlebell in soft focus",
            "a rolled gym towel",
            "a leafy potted plant",
        ],
    ),
    entry(
        "a sunny poolside terrace",
        &[
            "a teak pool deck",
            "a white stone ledge",
            "a striped sun lounger",
        ],
        &[
            "a striped beach towel",
            "sparkling pool water",
            "tropical palm leaves",
            "a glass of iced lemonade",
        ],
    ),
    entry(
        "an early morning running trail",
        &["a smooth boulder", "a wooden trail post", "a mossy log"],
        &[
            "morning dew on the grass",
            "a misty lake",
            "pine trees in soft focus",
            "golden sun flare",
        ],
    ),
];
