//! Library settings: personal care and beauty.

use super::{entry, SettingEntry};

/// The personal care and beauty settings.
pub const PERSONAL_CARE: &[SettingEntry] = &[
    entry(
        "a sunlit bathroom",
        &[
            "a white marble countertop",
            "a polished stone vanity",
            "a teak bath caddy",
            "a tiled bathroom shelf",
        ],
        &[
            "eucalyptus sprigs and a rolled towel",
            "a folded cotton towel",
            "smooth river pebbles",
            "a small sprig of lavender",
            "fresh water droplets",
        ],
    ),
    entry(
        "a luxurious spa retreat",
        &[
            "a smooth slate stone",
            "a bamboo tray",
            "a warm basalt slab",
            "a folded white towel",
        ],
        &[
            "stacked black massage stones",
            "white orchid blossoms",
            "floating rose petals",
            "a bowl of sea salt",
            "a wisp of steam",
        ],
    ),
    entry(
        "a pastel dressing room",
        &[
            "a glossy pink vanity top",
            "a mirrored glass tray",
            "a white lacquered shelf",
        ],
        &[
            "pink peony blooms",
            "a silk ribbon",
            "loose rose petals",
            "a gilded oval mirror",
            "soft tulle fabric",
        ],
    ),
    entry(
        "a botanical greenhouse",
        &[
            "a weathered potting bench",
            "a terracotta tile",
            "a mossy stone ledge",
        ],
        &[
            "curling fern fronds",
            "fresh aloe vera leaves",
            "trailing ivy",
            "dewy green leaves",
            "a terracotta pot of herbs",
        ],
    ),
    entry(
        "a minimalist concrete bathroom",
        &[
            "a grey concrete ledge",
            "a pale oak shelf",
            "a matte ceramic tray",
        ],
        &[
            "a single monstera leaf",
            "a folded linen towel",
            "smooth white pebbles",
            "dried pampas grass stems",
        ],
    ),
    entry(
        "a bright seaside bathhouse",
        &[
            "a whitewashed wooden shelf",
            "a sandy stone ledge",
            "a blue mosaic tile",
        ],
        &[
            "scattered seashells",
            "coarse sea salt crystals",
            "a striped cotton towel",
            "pieces of driftwood",
            "a dried starfish",
        ],
    ),
    entry(
        "a vintage barbershop",
        &[
            "a dark walnut counter",
            "a black marble ledge",
            "a leather-topped shelf",
        ],
        &[
            "a folded hot towel",
            "cedar wood shavings",
            "a small brass dish",
            "a sprig of rosemary",
            "a wisp of steam",
        ],
    ),
    entry(
        "a rose garden at dawn",
        &[
            "a weathered stone pedestal",
            "a mossy garden wall",
            "a white wrought iron table",
        ],
        &[
            "fresh pink roses",
            "dewy rose petals",
            "a silk ribbon",
            "trailing jasmine flowers",
        ],
    ),
    entry(
        "an elegant boudoir",
        &[
            "a mirrored vanity tray",
            "a cream velvet ottoman",
            "a gold-rimmed glass shelf",
        ],
        &[
            "fresh white peonies",
            "a small crystal dish",
            "soft feather plumes",
            "draped ivory silk",
        ],
    ),
];
