import time, threading, numpy as np, torch, sys
from ganlab.metrics.inception import FeatureExtractor
imgs = np.load('/root/.cache/ganlab/mnist.npz')['train_x'][:400]
for prec in ("bf16-stem", "fp32"):
    fx = FeatureExtractor(prec)
    torch.set_num_threads(2)
    fx(imgs[:50], progress=False)
    t=time.perf_counter(); a = fx(imgs, progress=False); t2=time.perf_counter()-t
    torch.set_num_threads(1)
    out=[None,None]
    def w(i): out[i]=fx(imgs[i*200:(i+1)*200], progress=False)
    w(0)
    t=time.perf_counter(); th=[threading.Thread(target=w,args=(i,)) for i in range(2)]
    [x.start() for x in th]; [x.join() for x in th]; t1=time.perf_counter()-t
    b=np.concatenate(out)
    print(prec, "2 intra-op threads: %.1f img/s; 2 workers x 1 thread: %.1f img/s; max|diff| %g" % (400/t2, 400/t1, np.abs(a-b).max()), flush=True)
