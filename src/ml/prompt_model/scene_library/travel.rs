//! Library settings: travel.

use super::{entry, SettingEntry};

/// The travel settings.
pub const TRAVEL: &[SettingEntry] = &[
    entry(
        "a quiet airport lounge",
        &[
            "a polished terrazzo floor",
            "a leather lounge seat",
            "a sleek side table",
        ],
        &[
            "large windows onto runways",
            "a cup of espresso",
            "a potted palm",
            "a departures hall in soft focus",
        ],
    ),
    entry(
        "a tropical hotel terrace",
        &[
            "a teak sun deck",
            "a white rendered ledge",
            "a rattan side table",
        ],
        &[
            "palm fronds",
            "a hibiscus flower",
            "a fresh coconut drink",
            "an infinity pool view",
        ],
    ),
    entry(
        "a vintage train compartment",
        &[
            "a wooden fold-down table",
            "a tartan seat cushion",
            "a brass luggage rack",
        ],
        &[
            "passing countryside views",
            "a folded paper map",
            "a porcelain teacup",
            "velvet curtains",
        ],
    ),
    entry(
        "a european old town square",
        &[
            "a worn cobblestone street",
            "a stone fountain rim",
            "a wrought iron bistro table",
        ],
        &[
            "colorful old facades",
            "window flower boxes",
            "a few pigeons",
            "a church tower in the distance",
        ],
    ),
    entry(
        "a desert highway at dusk",
        &[
            "a sun-baked asphalt road",
            "a dusty roadside rock",
            "a weathered fence rail",
        ],
        &[
            "tall saguaro cacti",
            "distant mesas",
            "dry tumbleweeds",
            "a long empty road",
        ],
    ),
    entry(
        "a coastal cliff viewpoint",
        &[
            "a grassy cliff edge",
            "a weathered stone wall",
            "a wooden lookout bench",
        ],
        &[
            "sea views to the horizon",
            "pink thrift flowers",
            "soaring gulls",
            "a lighthouse in the distance",
        ],
    ),
    entry(
        "a bright hotel room",
        &[
            "a crisp white bed",
            "a light oak luggage bench",
            "a wooden writing desk",
        ],
        &[
            "a folded paper map",
            "a vase of tropical flowers",
            "sheer curtains",
            "a window with a city view",
        ],
    ),
];
