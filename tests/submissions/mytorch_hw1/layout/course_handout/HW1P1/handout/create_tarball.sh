#!/bin/sh
# Make the handin the course expects.
tar -cvf handin.tar autograder hw1 mytorch
