//! Library settings: pets.

use super::{entry, SettingEntry};

/// The pets settings.
pub const PETS: &[SettingEntry] = &[
    entry(
        "a sunny pet-friendly living room",
        &["a worn oak floor", "a soft wool rug", "a low window seat"],
        &[
            "stray tufts of fur",
            "a sunny window",
            "a leafy houseplant",
            "muddy paw prints",
        ],
    ),
    entry(
        "a green dog park",
        &["a freshly cut lawn", "a wooden park bench", "a gravel path"],
        &[
            "yellow dandelions",
            "a wooden fence",
            "muddy paw prints",
            "leafy oak trees",
        ],
    ),
    entry(
        "a cosy cat nook",
        &["a sunny windowsill", "a woven wool rug", "a sisal mat"],
        &[
            "a ball of yarn",
            "fresh catnip leaves",
            "a single feather",
            "a pot of cat grass",
        ],
    ),
    entry(
        "an underwater coral reef",
        &[
            "a sandy sea floor",
            "a smooth coral rock",
            "a flat reef stone",
        ],
        &[
            "swaying sea grass",
            "tropical fish",
            "rising air bubbles",
            "branches of coral",
        ],
    ),
    entry(
        "a rustic farmyard",
        &[
            "a straw bale",
            "a weathered barn floor",
            "a wooden cart bed",
        ],
        &[
            "scattered straw",
            "a rustic barn door",
            "wildflowers by the fence",
            "a tin bucket",
        ],
    ),
    entry(
        "a bright pet grooming salon",
        &[
            "a white grooming table",
            "a tiled counter",
            "a soft fleece mat",
        ],
        &[
            "fluffy towels",
            "tufts of fur",
            "soap bubbles",
            "a wicker basket",
        ],
    ),
    entry(
        "a leafy bird garden",
        &[
            "a mossy branch",
            "a stone birdbath rim",
            "a weathered fence post top",
        ],
        &[
            "sunflower seeds",
            "berry-laden branches",
            "soft feathers",
            "trailing ivy",
        ],
    ),
];
