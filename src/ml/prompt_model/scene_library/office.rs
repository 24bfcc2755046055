//! Library settings: office and stationery.

use super::{entry, SettingEntry};

/// The office and stationery settings.
pub const OFFICE: &[SettingEntry] = &[
    entry(
        "a bright scandinavian home office",
        &["a white oak desk", "a cork desk pad", "a pale birch shelf"],
        &[
            "a small potted succulent",
            "a pinboard of swatches",
            "a linen cushion",
            "a sprig of dried eucalyptus",
        ],
    ),
    entry(
        "a vintage writer's study",
        &[
            "a worn leather desk blotter",
            "a dark mahogany desk",
            "an old oak writing table",
        ],
        &[
            "an antique globe",
            "a dried hydrangea head",
            "dried roses",
            "red wax seals",
        ],
    ),
    entry(
        "a modern corporate office",
        &[
            "a glass conference table",
            "a white laminate desk",
            "a walnut meeting table",
        ],
        &[
            "floor-to-ceiling windows",
            "a city skyline view",
            "a tall snake plant",
            "a glass of water",
        ],
    ),
    entry(
        "a creative design studio",
        &[
            "a large drafting table",
            "a paint-splattered workbench",
            "a white cutting mat",
        ],
        &[
            "color swatches",
            "pinned mood boards",
            "a jar of brushes",
            "paper offcuts",
        ],
    ),
    entry(
        "a sunny classroom",
        &[
            "a wooden school desk",
            "a chalkboard ledge",
            "a low book shelf",
        ],
        &[
            "a shiny red apple",
            "a world globe",
            "colorful paper chains",
            "a potted sunflower",
        ],
    ),
];
