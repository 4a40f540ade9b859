"""The instructors' build tools: stubs, the student release, the Gradescope autograder, the
lesson notebooks and the nbgrader course, all made from ``solutions/``, the rubric and the
lesson and template files of this package."""
