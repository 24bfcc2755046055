//! Library settings: fashion: bags, shoes, clothes, watches, jewellery.

use super::{entry, SettingEntry};

/// The fashion settings.
pub const FASHION: &[SettingEntry] = &[
    entry(
        "a chic parisian street",
        &[
            "a cobblestone pavement",
            "a wrought iron cafe table",
            "a stone doorstep",
        ],
        &[
            "fallen plane tree leaves",
            "a bouquet of tulips",
            "a striped cafe awning",
            "a croissant on a plate",
        ],
    ),
    entry(
        "an upscale fashion boutique",
        &[
            "a glass display plinth",
            "a white marble pedestal",
            "a velvet display cushion",
        ],
        &[
            "a brass clothing rail",
            "softly draped silk",
            "fresh white lilies",
            "gold-framed mirrors",
        ],
    ),
    entry(
        "a white art gallery",
        &[
            "a white cube plinth",
            "a polished concrete floor",
            "a pale stone pedestal",
        ],
        &[
            "abstract sculptures",
            "a single dried branch",
            "long shadows on walls",
            "a framed abstract canvas",
        ],
    ),
    entry(
        "an urban rooftop at dusk",
        &[
            "a weathered concrete ledge",
            "a wooden rooftop deck",
            "a steel bench",
        ],
        &[
            "city skyline bokeh",
            "strings of lights",
            "potted ornamental grasses",
            "a scatter of autumn leaves",
        ],
    ),
    entry(
        "a gritty urban alley",
        &[
            "a cracked asphalt ground",
            "a concrete curb",
            "a rusted metal crate",
        ],
        &[
            "puddle reflections",
            "a chain link fence",
            "a stack of wooden pallets",
            "a soft neon glow",
        ],
    ),
    entry(
        "an elegant jewellery atelier",
        &[
            "a black velvet cushion",
            "a polished marble slab",
            "a mirrored glass tray",
        ],
        &[
            "scattered rose petals",
            "a silk ribbon",
            "a small crystal dish",
            "soft satin folds",
        ],
    ),
    entry(
        "a sunlit walk-in wardrobe",
        &[
            "a tufted velvet ottoman",
            "a pale oak shelf",
            "a cream wool rug",
        ],
        &[
            "soft linen drapes",
            "dried pampas grass",
            "a round brass mirror",
            "stacked hat boxes",
        ],
    ),
    entry(
        "a watchmaker's workshop",
        &[
            "a green leather desk mat",
            "a brass-edged workbench",
            "a dark walnut tray",
        ],
        &[
            "scattered brass gears",
            "a jeweller's loupe",
            "a folded chamois cloth",
            "a tin of tiny screws",
        ],
    ),
    entry(
        "a gentleman's study",
        &[
            "a leather-topped desk",
            "a dark mahogany table",
            "a walnut valet tray",
        ],
        &[
            "a glowing fireplace",
            "leather-bound books",
            "an antique globe",
            "a cedar cigar box",
        ],
    ),
    entry(
        "an autumn city park",
        &[
            "a wooden park bench",
            "a gravel path",
            "a carpet of fallen leaves",
        ],
        &[
            "golden maple leaves",
            "conkers and acorns",
            "a wrought iron lamppost",
            "shiny chestnuts",
        ],
    ),
    entry(
        "a sleek fashion runway",
        &[
            "a glossy white runway",
            "a mirrored catwalk floor",
            "a black lacquered plinth",
        ],
        &[
            "rows of empty chairs",
            "spotlight beams",
            "scattered flower petals",
            "draped satin",
        ],
    ),
    entry(
        "a city running track at dawn",
        &[
            "a red rubber running track",
            "a concrete stadium step",
            "a wet asphalt path",
        ],
        &[
            "white lane lines",
            "a stopwatch",
            "morning mist",
            "a rolled sweat towel",
        ],
    ),
    entry(
        "a sunlit sports locker room",
        &[
            "a wooden locker room bench",
            "a grey metal locker shelf",
            "a white tiled floor",
        ],
        &[
            "a rolled white towel",
            "a coiled skipping rope",
            "soft steam from the showers",
            "a gym bench in soft focus",
        ],
    ),
];
