"""``poyo-rt profile``: the daemon's latency stage by stage under a load (``run``), the loads
(``load``), the rig and subscriber (``rig``), per-tick records (``ticks``), HdrHistograms
(``histograms``), the machine and the daemon process (``machine``), the model's cost
(``model_facts``) and the command (``command``). The report is ``poyo_rt.report.profile_report``."""
