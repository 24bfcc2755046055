//! Library settings: sports and outdoors: hiking, cycling, fitness, camping, swimming, winter.

use super::{entry, SettingEntry};

/// The sports and outdoors settings.
pub const SPORTS: &[SettingEntry] = &[
    entry(
        "a misty pine forest trail",
        &[
            "a mossy granite rock",
            "a fallen pine log",
            "a bed of pine needles",
        ],
        &[
            "scattered pine cones",
            "curling fern fronds",
            "morning mist between trees",
            "wild mushrooms",
        ],
    ),
    entry(
        "a rugged mountain summit",
        &[
            "a lichen-covered boulder",
            "a flat granite slab",
            "a rocky ledge",
        ],
        &[
            "distant snowy peaks",
            "a stone cairn",
            "tufts of alpine grass",
            "drifting clouds",
        ],
    ),
    entry(
        "an alpine lake shore",
        &[
            "a smooth lakeside boulder",
            "a weathered wooden dock",
            "a pebbled shoreline",
        ],
        &[
            "pine branches",
            "still water reflections",
            "wild mountain flowers",
            "pieces of driftwood",
        ],
    ),
    entry(
        "a winding country road",
        &[
            "a sun-warmed asphalt road",
            "a gravel road shoulder",
            "a low stone wall",
        ],
        &[
            "rolling green hills",
            "wildflowers along the verge",
            "a wooden farm gate",
            "red poppies in the grass",
        ],
    ),
    entry(
        "a mountain bike trail",
        &["a packed dirt trail", "a root-covered log", "a rocky berm"],
        &[
            "muddy tire tracks",
            "fallen leaves",
            "slender birch trees",
            "dust in the air",
        ],
    ),
    entry(
        "a modern home gym",
        &[
            "a black rubber gym floor",
            "a wooden plyo box",
            "a grey foam mat",
        ],
        &[
            "a rolled gym towel",
            "a dusting of chalk",
            "a leafy plant",
            "a mirrored wall",
        ],
    ),
    entry(
        "an industrial fitness studio",
        &[
            "a rubber tiled floor",
            "a weathered wooden bench",
            "a concrete ledge",
        ],
        &[
            "industrial steel beams",
            "chalk dust in the air",
            "exposed brick walls",
            "large factory windows",
        ],
    ),
    entry(
        "a calm yoga studio",
        &[
            "a pale wooden floor",
            "a folded cotton blanket",
            "a smooth stone slab",
        ],
        &[
            "a trailing pothos",
            "a wisp of incense smoke",
            "smooth river stones",
            "a brass singing bowl",
            "dried palm leaves",
        ],
    ),
    entry(
        "a lakeside campsite",
        &[
            "a flat granite boulder",
            "a split log bench",
            "a plaid wool blanket",
        ],
        &[
            "a crackling campfire",
            "scattered pine cones",
            "a stack of firewood",
            "toasted marshmallows on sticks",
        ],
    ),
    entry(
        "a starry desert campsite",
        &[
            "a red sandstone rock",
            "a dusty woven rug",
            "a weathered wooden crate",
        ],
        &[
            "a glowing campfire",
            "dry desert shrubs",
            "a string of lanterns",
            "scattered smooth stones",
        ],
    ),
    entry(
        "an outdoor swimming pool",
        &[
            "a white tiled pool edge",
            "a teak sun lounger",
            "a sun-warmed stone deck",
        ],
        &[
            "rippling turquoise water",
            "a striped towel",
            "a slice of watermelon",
            "palm leaf shadows",
        ],
    ),
    entry(
        "a rocky ocean cove",
        &[
            "a wet black rock",
            "a sandy rock ledge",
            "a weathered driftwood log",
        ],
        &[
            "crashing waves",
            "strands of seaweed",
            "scattered seashells",
            "a fine sea spray",
        ],
    ),
    entry(
        "a snowy mountain slope",
        &[
            "a packed snowdrift",
            "an icy boulder",
            "a frosted wooden bench",
        ],
        &[
            "snow-covered fir trees",
            "falling snowflakes",
            "ski tracks in the snow",
            "frosted pine cones",
        ],
    ),
    entry(
        "a cosy ski lodge",
        &[
            "a rough-hewn pine table",
            "a sheepskin rug",
            "a stone hearth",
        ],
        &[
            "a crackling fireplace",
            "a knitted wool blanket",
            "steaming hot cocoa",
            "stacked firewood",
        ],
    ),
    entry(
        "a sunny tennis court",
        &[
            "a green hard court",
            "a red clay court",
            "a white wooden bench",
        ],
        &[
            "a net in soft focus",
            "long court shadows",
            "a chain link fence",
            "a rolled white towel",
        ],
    ),
    entry(
        "an outdoor basketball court",
        &[
            "a painted asphalt court",
            "a concrete bench",
            "a weathered court edge",
        ],
        &[
            "a chain net hoop",
            "long evening shadows",
            "city buildings behind",
            "a chain link fence",
        ],
    ),
    entry(
        "a riverside running path",
        &[
            "a packed gravel path",
            "a wooden footbridge",
            "a low stone wall",
        ],
        &[
            "flowing river water",
            "tall reeds",
            "morning mist",
            "blossoming cherry trees",
        ],
    ),
    entry(
        "a frozen winter lake",
        &[
            "a clear sheet of ice",
            "a snowy fallen log",
            "a frosted wooden dock",
        ],
        &[
            "snow-dusted pines",
            "falling snowflakes",
            "hanging icicles",
            "delicate frost crystals",
        ],
    ),
    entry(
        "a sunny football pitch",
        &[
            "a freshly cut grass pitch",
            "a white painted bench",
            "a patch of artificial turf",
        ],
        &[
            "a goal net in soft focus",
            "crisp white pitch lines",
            "long afternoon shadows",
            "empty stadium seats",
        ],
    ),
];
