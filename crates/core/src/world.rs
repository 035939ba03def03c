//! Real and exercise data as two worlds that the type system keeps apart.
//!
//! A value of type [`InWorld<W, T>`] is data of world `W` ([`RealWorld`] or [`ExerciseWorld`]).
//! It can only be made by [`InWorld::admit`], which reads the world from the input's own
//! [`Mode`] field, and everything computed from it keeps the tag through [`InWorld::map`] and
//! [`InWorld::zip`]. `zip` takes two values of the *same* world, so combining real and exercise
//! data (fusing them, warning from them) does not compile. Whatever is built last from tagged
//! data — a public alert — reads its status from `W::MODE`, so an alert derived from any
//! exercise input is an exercise alert by construction.
//!
//! Two detections of the same world combine:
//!
//! ```
//! use tripoint_core::world::{InWorld, RealWorld, World};
//! fn fuse<W: World>(a: InWorld<W, f64>, b: InWorld<W, f64>) -> InWorld<W, f64> {
//!     a.zip(b).map(|(x, y)| 0.5 * (x + y))
//! }
//! fn same(a: InWorld<RealWorld, f64>, b: InWorld<RealWorld, f64>) -> InWorld<RealWorld, f64> {
//!     fuse(a, b)
//! }
//! ```
//!
//! and the same code with one exercise input does not compile:
//!
//! ```compile_fail,E0308
//! use tripoint_core::world::{ExerciseWorld, InWorld, RealWorld, World};
//! fn fuse<W: World>(a: InWorld<W, f64>, b: InWorld<W, f64>) -> InWorld<W, f64> {
//!     a.zip(b).map(|(x, y)| 0.5 * (x + y))
//! }
//! fn mix(a: InWorld<RealWorld, f64>, b: InWorld<ExerciseWorld, f64>) -> InWorld<RealWorld, f64> {
//!     fuse(a, b)
//! }
//! ```

use std::fmt;
use std::marker::PhantomData;

use crate::{CoreError, Detection, Mode};

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::RealWorld {}
    impl Sealed for super::ExerciseWorld {}
    impl Sealed for crate::Detection {}
}

/// The world a piece of data belongs to. Sealed: only [`RealWorld`] and [`ExerciseWorld`].
pub trait World: sealed::Sealed + Copy + fmt::Debug + Send + Sync + 'static {
    const MODE: Mode;
}

/// Real operations: the only world whose alerts are `Actual`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct RealWorld;

/// Exercises (drills), with synthetic launches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct ExerciseWorld;

impl World for RealWorld {
    const MODE: Mode = Mode::Real;
}

impl World for ExerciseWorld {
    const MODE: Mode = Mode::Exercise;
}

/// Raw input that states its own mode. Sealed: only core's input types (detections) enter a
/// world, so no other crate can declare its data real.
pub trait Moded: sealed::Sealed {
    fn mode(&self) -> Mode;
}

impl Moded for Detection {
    fn mode(&self) -> Mode {
        self.mode
    }
}

/// A value that belongs to world `W`.
#[derive(Clone, Debug, PartialEq)]
pub struct InWorld<W: World, T> {
    value: T,
    world: PhantomData<W>,
}

impl<W: World, T: Moded> InWorld<W, T> {
    /// Admits raw input into world `W`, refusing input of the other mode.
    pub fn admit(value: T) -> Result<Self, CoreError> {
        if value.mode() != W::MODE {
            return Err(CoreError::WrongWorld {
                expected: W::MODE,
                found: value.mode(),
            });
        }
        Ok(InWorld {
            value,
            world: PhantomData,
        })
    }
}

impl<W: World, T> InWorld<W, T> {
    /// Data computed from this value stays in its world.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> InWorld<W, U> {
        InWorld {
            value: f(self.value),
            world: PhantomData,
        }
    }

    /// Combines two values of the same world.
    pub fn zip<U>(self, other: InWorld<W, U>) -> InWorld<W, (T, U)> {
        InWorld {
            value: (self.value, other.value),
            world: PhantomData,
        }
    }

    pub fn as_ref(&self) -> InWorld<W, &T> {
        InWorld {
            value: &self.value,
            world: PhantomData,
        }
    }

    pub fn get(&self) -> &T {
        &self.value
    }

    pub fn into_inner(self) -> T {
        self.value
    }

    pub fn mode(&self) -> Mode {
        W::MODE
    }
}

impl<W: World, T> std::ops::Deref for InWorld<W, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}
