#!/usr/bin/perl
# VMXON on every CPU of a 1-CPU machine (tigerlake).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
require "$FindBin::Bin/lib/vmxon.pl";

check_vmxon_on_all_cpus(1);
done_testing();
