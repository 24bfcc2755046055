//! Library settings: books.

use super::{entry, SettingEntry};

/// The books settings.
pub const BOOKS: &[SettingEntry] = &[
    entry(
        "a grand old library",
        &[
            "a polished mahogany reading table",
            "a worn oak reading desk",
            "a green baize table",
        ],
        &[
            "towering bookshelves",
            "a green banker's lamp",
            "an antique globe",
            "dust in sunbeams",
        ],
    ),
    entry(
        "a rainy day window nook",
        &[
            "a cushioned window seat",
            "a knitted blanket",
            "a wide wooden sill",
        ],
        &[
            "rain on the glass",
            "a steaming cup of tea",
            "a chunky wool throw",
            "a plate of biscuits",
        ],
    ),
    entry(
        "a charming secondhand bookshop",
        &[
            "a dusty oak counter",
            "a wooden book crate",
            "a worn leather armchair seat",
        ],
        &[
            "leaning piles of old books",
            "a sleepy cat",
            "a brass counter bell",
            "paper bookmarks",
        ],
    ),
    entry(
        "a literary cafe corner",
        &[
            "a small marble cafe table",
            "a dark wood bench",
            "a round bistro table",
        ],
        &[
            "a cappuccino with foam art",
            "a slice of cake",
            "a vase of tulips",
            "a plate of almond biscotti",
        ],
    ),
    entry(
        "a candlelit gothic library",
        &[
            "a carved oak desk",
            "a stone window ledge",
            "a worn velvet cushion",
        ],
        &[
            "melting candles",
            "a quill and inkwell",
            "a raven feather",
            "dried roses",
            "a brass candelabra",
        ],
    ),
];
