//! Library settings: neutral studio settings that suit any product.

use super::{entry, SettingEntry};

/// The neutral studio settings.
pub const STUDIO: &[SettingEntry] = &[
    entry(
        "a studio with a pastel backdrop",
        &[
            "a pastel pink plinth",
            "a round cream pedestal",
            "a matte sage podium",
        ],
        &[
            "soft geometric shapes",
            "pastel spheres",
            "dried pampas grass",
            "curved shadows",
        ],
        &[],
    ),
    entry(
        "a bright white photo studio",
        &[
            "a seamless white sweep",
            "a white acrylic block",
            "a glossy white plinth",
        ],
        &[
            "soft shadows",
            "a single green leaf",
            "white geometric blocks",
            "a sheer fabric drape",
        ],
        &[],
    ),
    entry(
        "a dark moody studio",
        &[
            "a black slate slab",
            "a charcoal concrete plinth",
            "a dark oak block",
        ],
        &[
            "wisps of smoke",
            "dramatic shadows",
            "a dark silk drape",
            "dried flowers",
        ],
        &[],
    ),
    entry(
        "a terracotta toned studio",
        &[
            "a terracotta clay plinth",
            "a sandstone block",
            "a rough plaster pedestal",
        ],
        &[
            "dried palm leaves",
            "arched shadows",
            "smooth sand ripples",
            "a vase of dried flowers",
        ],
        &[],
    ),
    entry(
        "a sunlit studio with palm shadows",
        &[
            "a beige stone plinth",
            "a travertine block",
            "a linen-covered box",
        ],
        &[
            "palm leaf shadows",
            "dried grass stems",
            "a round mirror",
            "sand-colored spheres",
        ],
        &[],
    ),
    entry(
        "a colorful pop art studio",
        &[
            "a bright yellow podium",
            "a glossy red cube",
            "a candy pink plinth",
        ],
        &[
            "floating balloons",
            "scattered confetti",
            "bold geometric shapes",
            "candy-colored spheres",
        ],
        &[],
    ),
    entry(
        "a futuristic chrome studio",
        &[
            "a mirrored chrome plinth",
            "a brushed steel disc",
            "an iridescent acrylic block",
        ],
        &[
            "liquid metal droplets",
            "holographic reflections",
            "chrome spheres",
            "thin light rings",
        ],
        &[],
    ),
    entry(
        "a studio with still water",
        &[
            "a stone block in water",
            "a wet black stone",
            "a floating white disc",
        ],
        &[
            "gentle ripples",
            "water droplets",
            "floating petals",
            "smooth pebbles",
        ],
        &[],
    ),
    entry(
        "a studio draped in silk",
        &[
            "a satin-covered plinth",
            "a pearl white pedestal",
            "a rose gold disc",
        ],
        &[
            "flowing silk folds",
            "scattered petals",
            "glass spheres",
            "soft light ripples",
        ],
        &[],
    ),
    entry(
        "a natural wood studio",
        &[
            "a raw oak block",
            "a live edge wood slab",
            "a birch plywood cube",
        ],
        &[
            "dried grasses",
            "a sprig of olive",
            "linen fabric folds",
            "wood shavings",
        ],
        &[],
    ),
    entry(
        "a monochrome grey studio",
        &[
            "a grey concrete cube",
            "a matte grey cylinder",
            "a smooth stone slab",
        ],
        &[
            "stacked concrete blocks",
            "sharp diagonal shadows",
            "a single dried branch",
            "grey geometric shapes",
        ],
        &[],
    ),
    entry(
        "a desert sand studio",
        &[
            "a smooth sand mound",
            "a sandstone plinth",
            "a rough limestone block",
        ],
        &[
            "wind-rippled sand",
            "dried desert grass",
            "a bleached branch",
            "scattered pebbles",
        ],
        &[],
    ),
    entry(
        "a lush botanical studio",
        &[
            "a moss-covered plinth",
            "a green marble block",
            "a smooth stone pedestal",
        ],
        &[
            "tropical monstera leaves",
            "trailing ferns",
            "fresh orchids",
            "water droplets",
        ],
        &[],
    ),
    entry(
        "a dreamy cloud studio",
        &[
            "a fluffy cloud pedestal",
            "a pale blue plinth",
            "a white round podium",
        ],
        &[
            "cotton clouds",
            "pastel spheres",
            "floating bubbles",
            "a soft rainbow",
        ],
        &[],
    ),
];
