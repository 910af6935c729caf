//! The district's course catalog: grade levels K-12, school bands, and the core courses and electives of each.

/// Grade levels K-12: (GradeLevelDescriptor code, course-code label, title label).
pub(super) const GRADE_LEVELS: [(&str, &str, &str); 13] = [
    ("Kindergarten", "K", "Kindergarten"),
    ("First grade", "01", "Grade 1"),
    ("Second grade", "02", "Grade 2"),
    ("Third grade", "03", "Grade 3"),
    ("Fourth grade", "04", "Grade 4"),
    ("Fifth grade", "05", "Grade 5"),
    ("Sixth grade", "06", "Grade 6"),
    ("Seventh grade", "07", "Grade 7"),
    ("Eighth grade", "08", "Grade 8"),
    ("Ninth grade", "09", "Grade 9"),
    ("Tenth grade", "10", "Grade 10"),
    ("Eleventh grade", "11", "Grade 11"),
    ("Twelfth grade", "12", "Grade 12"),
];

/// The kind of school: which grade levels it serves.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Band {
    Elementary,
    Middle,
    High,
}

impl Band {
    /// Index of the band in `Catalog::electives`.
    pub(super) fn idx(self) -> usize {
        self as usize
    }
    /// Indexes in `GRADE_LEVELS` of the band's grades.
    pub(super) fn grades(self) -> std::ops::RangeInclusive<usize> {
        match self {
            Band::Elementary => 0..=5,
            Band::Middle => 6..=8,
            Band::High => 9..=12,
        }
    }
    pub(super) fn school_label(self) -> &'static str {
        match self {
            Band::Elementary => "Elementary School",
            Band::Middle => "Middle School",
            Band::High => "High School",
        }
    }
    pub(super) fn abbreviation(self) -> &'static str {
        match self {
            Band::Elementary => "ES",
            Band::Middle => "MS",
            Band::High => "HS",
        }
    }
}

/// A course of the catalog.
pub(super) struct Course {
    pub(super) code: String,
    pub(super) title: String,
    pub(super) subject: &'static str,
    /// Indexes in `GRADE_LEVELS` of the grades it is offered to.
    pub(super) grades: Vec<usize>,
    /// 2 for a year-long course taught in two semesters, 1 for a one-semester course.
    pub(super) parts: i64,
    pub(super) high_school: bool,
    /// A core subject (English, mathematics, science, social studies), not an elective.
    pub(super) core: bool,
}

impl Course {
    /// The GradeLevelDescriptor codes of its grades.
    pub(super) fn grade_levels(&self) -> Vec<&'static str> {
        self.grades.iter().map(|&g| GRADE_LEVELS[g].0).collect()
    }
}

/// Every course of the district, with indexes by grade and band.
pub(super) struct Catalog {
    pub(super) courses: Vec<Course>,
    /// Per grade 0..=12, the catalog indexes of its four core courses.
    pub(super) core: Vec<[usize; 4]>,
    /// Per band, the catalog indexes of its three electives.
    pub(super) electives: [[usize; 3]; 3],
}

/// Electives per band; a student takes one of them a semester.
pub(super) const ELECTIVE_CHOICES: usize = 3;

impl Catalog {
    /// Catalog indexes of the courses a school of `band` offers.
    pub(super) fn band_courses(&self, band: Band) -> impl Iterator<Item = usize> + '_ {
        band.grades()
            .flat_map(move |g| self.core[g])
            .chain(self.electives[band.idx()])
    }

    /// The catalog: four core courses per grade and three electives per band.
    pub(super) fn new() -> Catalog {
        let mut courses = Vec::new();
        let mut core = Vec::new();
        let subjects = [
            ("ELA", "English Language Arts", "English Language Arts"),
            ("MATH", "Mathematics", "Mathematics"),
            ("SCI", "Science", "Science"),
            ("SS", "Social Studies", "Social Studies"),
        ];
        for (g, (_, code_label, title_label)) in GRADE_LEVELS.iter().enumerate().take(9) {
            let mut idx = [0; 4];
            for (k, (prefix, title, subject)) in subjects.iter().enumerate() {
                idx[k] = courses.len();
                courses.push(Course {
                    code: format!("{prefix}-{code_label}"),
                    title: format!("{title}, {title_label}"),
                    subject,
                    grades: vec![g],
                    parts: 2,
                    high_school: false,
                    core: true,
                });
            }
            core.push(idx);
        }
        let high = [
            [
                ("ENG-1", "English I", "English"),
                ("ALG-1", "Algebra I", "Mathematics"),
                ("BIO", "Biology", "Science"),
                ("WGEO", "World Geography", "Social Studies"),
            ],
            [
                ("ENG-2", "English II", "English"),
                ("GEOM", "Geometry", "Mathematics"),
                ("CHEM", "Chemistry", "Science"),
                ("WHIST", "World History", "Social Studies"),
            ],
            [
                ("ENG-3", "English III", "English"),
                ("ALG-2", "Algebra II", "Mathematics"),
                ("PHYS", "Physics", "Science"),
                ("USHIST", "U.S. History", "Social Studies"),
            ],
            [
                ("ENG-4", "English IV", "English"),
                ("PRECALC", "Precalculus", "Mathematics"),
                ("ENVSCI", "Environmental Science", "Science"),
                ("GOVT", "U.S. Government", "Social Studies"),
            ],
        ];
        for (i, row) in high.iter().enumerate() {
            let mut idx = [0; 4];
            for (k, (code, title, subject)) in row.iter().enumerate() {
                idx[k] = courses.len();
                courses.push(Course {
                    code: code.to_string(),
                    title: title.to_string(),
                    subject,
                    grades: vec![9 + i],
                    parts: 2,
                    high_school: true,
                    core: true,
                });
            }
            core.push(idx);
        }
        let pe = "Physical, Health, and Safety Education";
        let arts = "Fine and Performing Arts";
        let elective_rows = [
            (
                Band::Elementary,
                [
                    ("PE-ES", "Physical Education, Elementary", pe),
                    ("ART-ES", "Art, Elementary", arts),
                    ("MUS-ES", "Music, Elementary", arts),
                ],
            ),
            (
                Band::Middle,
                [
                    ("PE-MS", "Physical Education, Middle School", pe),
                    ("ART-MS", "Art, Middle School", arts),
                    ("BAND-MS", "Band, Middle School", arts),
                ],
            ),
            (
                Band::High,
                [
                    ("PE-1", "Physical Education I", pe),
                    ("ART-1", "Art I", arts),
                    ("CHOIR-1", "Choir I", arts),
                ],
            ),
        ];
        let mut electives = [[0; 3]; 3];
        for (band, row) in elective_rows {
            for (k, (code, title, subject)) in row.iter().enumerate() {
                electives[band.idx()][k] = courses.len();
                courses.push(Course {
                    code: code.to_string(),
                    title: title.to_string(),
                    subject,
                    grades: band.grades().collect(),
                    parts: 1,
                    high_school: band == Band::High,
                    core: false,
                });
            }
        }
        Catalog {
            courses,
            core,
            electives,
        }
    }
}
