//! Library settings: automotive: car accessories, car care and tools.

use super::{entry, SettingEntry};

/// The automotive settings.
pub const AUTOMOTIVE: &[SettingEntry] = &[
    entry(
        "a modern car interior",
        &[
            "a leather passenger seat",
            "a dashboard top",
            "a centre console",
            "a stitched leather armrest",
        ],
        &[
            "a city street through the windscreen",
            "soft ambient dashboard glow",
            "rain droplets on the side window",
            "sunlight across the seats",
        ],
    ),
    entry(
        "a tidy home garage",
        &[
            "a steel workbench",
            "a grey epoxy floor",
            "a red tool chest top",
            "a rubber floor mat",
        ],
        &[
            "a parked car in soft focus",
            "bright strip lights overhead",
            "a pegboard wall",
            "neat storage shelves",
            "a roll-up garage door",
        ],
    ),
    entry(
        "a car detailing studio",
        &[
            "a glossy black car bonnet",
            "a polished car roof",
            "a clean grey tiled floor",
        ],
        &[
            "water beads on glossy paint",
            "bright linear ceiling lights",
            "mirror-like paint reflections",
            "a drifting cloud of foam",
            "a wet reflective floor",
        ],
    ),
    entry(
        "a scenic mountain pass",
        &[
            "a gravel roadside lay-by",
            "a low stone guard wall",
            "a sunlit car bonnet",
        ],
        &[
            "winding hairpin bends below",
            "snowy peaks in the distance",
            "pine trees on the slopes",
            "a metal crash barrier",
        ],
    ),
    entry(
        "a sunny suburban driveway",
        &[
            "a clean concrete driveway",
            "a paved brick driveway",
            "a shiny car bumper",
        ],
        &[
            "a neatly trimmed hedge",
            "a garage door in soft focus",
            "soap suds on the ground",
            "a leafy maple tree",
            "sparkling water droplets",
        ],
    ),
    entry(
        "a rainy city street at night",
        &[
            "a wet asphalt road",
            "a rain-beaded car bonnet",
            "a concrete kerb",
        ],
        &[
            "neon reflections in puddles",
            "blurred red tail lights",
            "glowing streetlights",
            "rain streaks in the air",
            "a row of parked cars",
        ],
    ),
    entry(
        "a rugged off-road trail",
        &[
            "a muddy dirt track",
            "a flat rocky ledge",
            "a dusty pickup tailgate",
        ],
        &[
            "deep tyre ruts in the mud",
            "a pine-covered ridge",
            "scattered loose rocks",
            "a haze of trail dust",
            "splashes of dried mud",
        ],
    ),
    entry(
        "a vintage motorcycle garage",
        &[
            "a scratched steel workbench",
            "an oil-stained concrete floor",
            "a weathered wooden crate",
        ],
        &[
            "a classic motorbike in soft focus",
            "exposed brick walls",
            "warm filament bulbs",
            "an old enamel fuel can",
        ],
    ),
];
