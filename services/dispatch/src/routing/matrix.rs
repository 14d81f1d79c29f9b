//! The travel matrix every source answers and the planner reads.

/// Durations (seconds) and distances (metres) between every pair of `n` points,
/// row-major: entry `i * n + j` is from `i` to `j`.
#[derive(Clone, Debug, PartialEq)]
pub struct Matrix {
    n: usize,
    durations: Vec<i32>,
    distances: Vec<i32>,
}

impl Matrix {
    /// A matrix from its two row-major tables; `None` if their sizes are not n × n.
    pub fn new(n: usize, durations: Vec<i32>, distances: Vec<i32>) -> Option<Self> {
        (durations.len() == n * n && distances.len() == n * n).then_some(Self { n, durations, distances })
    }

    pub fn len(&self) -> usize {
        self.n
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Seconds from `i` to `j`.
    #[inline]
    pub fn secs(&self, i: usize, j: usize) -> i64 {
        i64::from(self.durations[i * self.n + j])
    }

    /// Metres from `i` to `j`.
    #[inline]
    pub fn metres(&self, i: usize, j: usize) -> i64 {
        i64::from(self.distances[i * self.n + j])
    }

    /// The matrix over the points at `indexes` of this one, in that order.
    pub fn select(&self, indexes: &[usize]) -> Matrix {
        let n = indexes.len();
        let (mut durations, mut distances) = (Vec::with_capacity(n * n), Vec::with_capacity(n * n));
        for &i in indexes {
            for &j in indexes {
                durations.push(self.durations[i * self.n + j]);
                distances.push(self.distances[i * self.n + j]);
            }
        }
        Matrix { n, durations, distances }
    }
}
