//! Library settings: garden and tools.

use super::{entry, SettingEntry};

/// The garden and tools settings.
pub const GARDEN: &[SettingEntry] = &[
    entry(
        "a lush cottage garden",
        &[
            "a weathered potting bench",
            "a mossy brick path",
            "a stone garden step",
        ],
        &[
            "foxgloves and roses",
            "stacked terracotta pots",
            "a coil of garden twine",
            "a trug of fresh vegetables",
        ],
    ),
    entry(
        "a rustic garden shed",
        &[
            "a rough wooden workbench",
            "an upturned terracotta pot",
            "a weathered plank shelf",
        ],
        &[
            "hanging dried herbs",
            "a ball of jute twine",
            "soil-covered seedlings",
            "old clay pots",
        ],
    ),
    entry(
        "a sunny vegetable patch",
        &[
            "a raised wooden bed edge",
            "a bed of dark soil",
            "a bed of straw",
        ],
        &[
            "rows of lettuce",
            "tomato vines",
            "young pea shoots",
            "a wooden trug",
        ],
    ),
    entry(
        "a woodworking workshop",
        &[
            "a scarred oak workbench",
            "a pine plank floor",
            "a sturdy sawhorse",
        ],
        &[
            "curled wood shavings",
            "a dusting of sawdust",
            "a pegboard wall",
            "timber offcuts",
        ],
    ),
    entry(
        "a modern garage workshop",
        &[
            "a steel workbench",
            "an epoxy coated floor",
            "a wooden tool chest top",
        ],
        &[
            "sawdust on the floor",
            "neatly coiled cables",
            "stacked timber boards",
            "wood offcuts",
        ],
    ),
    entry(
        "a sunlit greenhouse",
        &[
            "a slatted potting table",
            "a gravel floor",
            "a weathered wooden shelf",
        ],
        &[
            "tomato plants",
            "hanging baskets of ferns",
            "seedling trays",
            "misted glass panes",
        ],
    ),
    entry(
        "a zen rock garden",
        &[
            "a bed of raked gravel",
            "a flat basalt stone",
            "a mossy stone base",
        ],
        &[
            "a small pine bonsai",
            "bamboo stalks",
            "a bamboo water spout",
            "koi pond ripples",
        ],
    ),
    entry(
        "a wooden backyard deck",
        &[
            "a weathered teak deck",
            "a wooden garden bench",
            "a stone planter ledge",
        ],
        &[
            "potted lavender",
            "festoon lights",
            "climbing jasmine",
            "a bowl of ripe cherries",
        ],
    ),
];
