# bench/plot.gp: the picture of bench/compare's table.
# usage: gnuplot -e "datafile='plot.dat'; outfile='docs/bench.png'" bench/plot.gp
# datafile columns: conns etcd_rps etcd_p99 redis_rps redis_p99
#                   swoosh_rps swoosh_p99 taskflow_rps taskflow_p99
# ("-" marks a missing value).
if (!exists("datafile")) datafile = 'plot.dat'
if (!exists("outfile")) outfile = 'bench.png'

set terminal pngcairo size 1400,560 enhanced font 'DejaVu Sans,11'
set output outfile
set datafile missing '-'
set key top left box opaque
set grid
set logscale x 2
set xlabel 'connections'
set xrange [0.8:320]
set xtics (1, 4, 16, 64, 256)
set style line 1 lc rgb '#1f77b4' lw 2 pt 7 ps 1.2
set style line 2 lc rgb '#d62728' lw 2 pt 5 ps 1.2
set style line 3 lc rgb '#2ca02c' lw 3 pt 9 ps 1.4
set style line 4 lc rgb '#9467bd' lw 2 pt 11 ps 1.2 dt 2

set multiplot layout 1,2 title 'Durable small writes on loopback (higher is better left, lower is better right)'

set title 'throughput'
set ylabel 'durable writes/s'
set logscale y 10
set format y '%.0s%c'
plot datafile using 1:2 with linespoints ls 1 title 'etcd (HTTP gateway)', \
     ''       using 1:4 with linespoints ls 2 title 'Redis (AOF always)', \
     ''       using 1:6 with linespoints ls 3 title 'SWOOSH beats', \
     ''       using 1:8 with linespoints ls 4 title 'SWOOSH task flow'

set title 'p99 latency'
set ylabel 'p99 (ms)'
set format y '%g'
plot datafile using 1:3 with linespoints ls 1 title 'etcd (HTTP gateway)', \
     ''       using 1:5 with linespoints ls 2 title 'Redis (AOF always)', \
     ''       using 1:7 with linespoints ls 3 title 'SWOOSH beats', \
     ''       using 1:9 with linespoints ls 4 title 'SWOOSH task flow'

unset multiplot
