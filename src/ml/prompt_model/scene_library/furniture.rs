//! Library settings: furniture.

use super::{entry, SettingEntry};

/// The furniture settings.
pub const FURNITURE: &[SettingEntry] = &[
    entry(
        "a bright scandinavian living room",
        &[
            "a light oak floor",
            "a woven wool rug",
            "a white birch plank floor",
        ],
        &[
            "a sheepskin throw",
            "a potted fiddle leaf fig",
            "linen cushions",
            "a stack of design books",
        ],
    ),
    entry(
        "a mid-century modern lounge",
        &[
            "a walnut parquet floor",
            "a mustard wool rug",
            "a terrazzo floor",
        ],
        &[
            "a tall snake plant",
            "a stack of vinyl records",
            "geometric wall art",
            "a knitted throw",
        ],
    ),
    entry(
        "an airy loft apartment",
        &[
            "a polished concrete floor",
            "a wide plank oak floor",
            "a jute area rug",
        ],
        &[
            "exposed brick walls",
            "tall arched windows",
            "a trailing pothos",
            "a stack of magazines",
        ],
    ),
    entry(
        "a cosy reading nook",
        &[
            "a thick shag rug",
            "a worn oak floor",
            "a window seat cushion",
        ],
        &[
            "a stack of old books",
            "a chunky knit blanket",
            "a trailing ivy plant",
            "warm fairy lights",
        ],
    ),
    entry(
        "a luxurious hotel suite",
        &[
            "a herringbone parquet floor",
            "a cream silk rug",
            "a polished marble floor",
        ],
        &[
            "tall velvet curtains",
            "fresh white orchids",
            "a gold-framed mirror",
            "a crystal chandelier glow",
        ],
    ),
    entry(
        "a japandi bedroom",
        &[
            "a pale oak floor",
            "a woven tatami mat",
            "a light ash floor",
        ],
        &[
            "a paper lantern",
            "a ceramic vase of branches",
            "a folded linen throw",
            "a small bonsai tree",
        ],
    ),
    entry(
        "a sunlit bohemian lounge",
        &[
            "a patterned kilim rug",
            "a worn terracotta floor",
            "a rattan floor mat",
        ],
        &[
            "macrame wall hangings",
            "hanging trailing plants",
            "embroidered floor cushions",
            "woven seagrass baskets",
        ],
    ),
    entry(
        "a sunny garden patio",
        &[
            "a stone paved patio",
            "a teak deck",
            "a weathered brick terrace",
        ],
        &[
            "potted olive trees",
            "climbing roses",
            "outdoor linen cushions",
            "a string of festoon lights",
        ],
    ),
    entry(
        "a grand country manor hall",
        &[
            "a checkerboard marble floor",
            "a faded persian rug",
            "a polished oak floor",
        ],
        &[
            "landscape paintings in gilded frames",
            "a sweeping staircase",
            "a vase of garden flowers",
            "tall sash windows",
        ],
    ),
];
