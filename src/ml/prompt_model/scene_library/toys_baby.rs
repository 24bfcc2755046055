//! Library settings: toys, kids and baby.

use super::{entry, SettingEntry};

/// The toys, kids and baby settings.
pub const TOYS_BABY: &[SettingEntry] = &[
    entry(
        "a colorful playroom",
        &[
            "a soft foam play mat",
            "a low wooden shelf",
            "a rainbow striped rug",
        ],
        &[
            "pom pom garlands",
            "paper stars",
            "pastel balloons",
            "a painted rainbow mural",
        ],
    ),
    entry(
        "a soft pastel nursery",
        &[
            "a white wooden dresser top",
            "a knitted cotton blanket",
            "a cloud-shaped rug",
        ],
        &[
            "a mobile of felt stars",
            "cotton flower garlands",
            "a sheer canopy",
            "pastel paper bunting",
        ],
    ),
    entry(
        "a scandinavian kids bedroom",
        &[
            "a pale birch floor",
            "a round woven rug",
            "a white painted shelf",
        ],
        &[
            "a mountain wall mural",
            "a string of felt balls",
            "a fluffy sheepskin",
            "paper star lanterns",
        ],
    ),
    entry(
        "a sunny backyard lawn",
        &[
            "a freshly mown lawn",
            "a checked picnic blanket",
            "a wooden deck",
        ],
        &[
            "daisies in the grass",
            "soap bubbles in the air",
            "a white picket fence",
            "a leafy apple tree",
        ],
    ),
    entry(
        "a pastel birthday party room",
        &[
            "a pastel party table",
            "a striped paper tablecloth",
            "a white painted bench",
        ],
        &[
            "pastel balloons",
            "scattered confetti",
            "paper streamers",
            "cupcakes with sprinkles",
        ],
    ),
    entry(
        "an enchanted fairytale forest",
        &[
            "a mossy tree stump",
            "a carpet of soft moss",
            "a fallen birch log",
        ],
        &[
            "red spotted toadstools",
            "glowing fireflies",
            "ferns and acorns",
            "a tiny wooden door",
        ],
    ),
    entry(
        "a soft white baby bathroom",
        &[
            "a white tiled ledge",
            "a soft hooded towel",
            "a bamboo bath tray",
        ],
        &[
            "floating soap bubbles",
            "a folded muslin cloth",
            "dried cotton flowers",
            "a bowl of cotton balls",
        ],
    ),
    entry(
        "a bright arts and crafts corner",
        &[
            "a paint-splattered table",
            "a kraft paper mat",
            "a low pine table",
        ],
        &[
            "bright paint splashes",
            "a string of paper garlands",
            "paper cut-out shapes",
            "colorful pom poms",
        ],
    ),
    entry(
        "a starry space-themed bedroom",
        &[
            "a navy blue rug",
            "a white painted shelf",
            "a midnight blue desk",
        ],
        &[
            "glowing paper stars",
            "a planet mobile",
            "a string of star lights",
            "a moon-shaped lamp glow",
        ],
    ),
    entry(
        "a backyard dirt track",
        &[
            "a dusty dirt track",
            "a sandy mound",
            "a patch of gravel",
            "a wooden ramp",
        ],
        &[
            "orange traffic cones",
            "tyre tracks in the dust",
            "small rocks and pebbles",
            "a chequered flag",
        ],
    ),
];
