//! Library settings: home and kitchen.

use super::{entry, SettingEntry};

/// The home and kitchen settings.
pub const HOME_KITCHEN: &[SettingEntry] = &[
    entry(
        "a sleek open-plan kitchen",
        &[
            "a grey quartz island",
            "a black granite countertop",
            "a walnut breakfast bar",
        ],
        &[
            "a bowl of green apples",
            "fresh herbs in pots",
            "a pile of fresh lemons",
            "a folded tea towel",
        ],
    ),
    entry(
        "a bright tiled bathroom",
        &[
            "a white bath stool",
            "a teak shower bench",
            "a white tiled ledge",
        ],
        &[
            "a green trailing plant",
            "a wicker laundry basket",
            "a bar of handmade soap",
            "a small round mirror",
        ],
    ),
    entry(
        "a cosy country cottage",
        &[
            "a scrubbed pine table",
            "a lace doily",
            "a stone windowsill",
        ],
        &[
            "a jug of wildflowers",
            "gingham curtains",
            "a basket of knitting wool",
            "dried lavender bunches",
        ],
    ),
    entry(
        "a tidy laundry room",
        &[
            "a white wooden shelf",
            "a stack of folded towels",
            "a woven laundry basket lid",
        ],
        &[
            "fresh white linens",
            "a sprig of lavender",
            "dried cotton stems",
            "soap flakes in a jar",
        ],
    ),
    entry(
        "a serene white bedroom",
        &[
            "a crisp linen duvet",
            "a bedside oak table",
            "a soft wool throw",
        ],
        &[
            "fluffy pillows",
            "a sprig of eucalyptus",
            "a stack of novels",
            "sheer white curtains",
        ],
    ),
    entry(
        "an elegant dining room",
        &[
            "a polished walnut dining table",
            "a white linen tablecloth",
            "a marble serving board",
        ],
        &[
            "a low floral centerpiece",
            "folded linen napkins",
            "scattered rose petals",
            "tall windows with drapes",
        ],
    ),
    entry(
        "a well-stocked pantry",
        &[
            "a wooden pantry shelf",
            "a marble slab shelf",
            "a woven basket lid",
        ],
        &[
            "glass jars of grains",
            "dried pasta",
            "bunches of dried herbs",
            "a sack of flour",
        ],
    ),
    entry(
        "a plant-filled living room",
        &[
            "a low oak coffee table",
            "a marble side table",
            "a woven jute rug",
        ],
        &[
            "trailing pothos vines",
            "monstera leaves",
            "a stack of coffee table books",
            "linen cushions",
        ],
    ),
];
