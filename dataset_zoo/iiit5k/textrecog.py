# IIIT5K-Words (Mishra et al., BMVC 2012): 2000 train / 3000 test cropped words.
# Images: the official tarball. Labels: MMOCR's case-restored label files, one
# `<split>/<image>.png <text>` line per word (the folder prefix is stripped by
# BaseNameTxtRecogAnnParser, registered in tools/prepare_dataset.py).
# Label-file md5s: the values of MMOCR's "Update iiit5k md5" (PR #1848, April 2023), which
# replaced f4731ce1... (train) and 82ecfa34... (test).
# `data_root` and `cache_path` are defaults; tools/prepare_dataset.py overrides both.
data_root = 'data/iiit5k'
cache_path = 'data/cache'

train_preparer = dict(
    obtainer=dict(
        type='NaiveDataObtainer',
        cache_path=cache_path,
        files=[
            dict(
                url='http://cvit.iiit.ac.in/projects/SceneTextUnderstanding/'
                'IIIT5K-Word_V3.0.tar.gz',
                save_name='IIIT5K.tar.gz',
                md5='56781bc327d22066aa1c239ee788fd46',
                content=['image'],
                mapping=[['IIIT5K/IIIT5K/train', 'textrecog_imgs/train']]),
            dict(
                url='https://download.openmmlab.com/mmocr/data/mixture/IIIT5K/'
                'train_label.txt',
                save_name='iiit5k_train.txt',
                md5='beee914aaf3ec5794622b843d743c5a6',
                content=['annotation'],
                mapping=[['iiit5k_train.txt', 'annotations/train.txt']]),
        ]),
    gatherer=dict(type='MonoGatherer', ann_name='train.txt'),
    parser=dict(type='BaseNameTxtRecogAnnParser', separator=' ', format='img text'),
    packer=dict(type='TextRecogPacker'),
    dumper=dict(type='JsonDumper'))

test_preparer = dict(
    obtainer=dict(
        type='NaiveDataObtainer',
        cache_path=cache_path,
        files=[
            dict(
                url='http://cvit.iiit.ac.in/projects/SceneTextUnderstanding/'
                'IIIT5K-Word_V3.0.tar.gz',
                save_name='IIIT5K.tar.gz',
                md5='56781bc327d22066aa1c239ee788fd46',
                content=['image'],
                mapping=[['IIIT5K/IIIT5K/test', 'textrecog_imgs/test']]),
            dict(
                url='https://download.openmmlab.com/mmocr/data/mixture/IIIT5K/'
                'test_label.txt',
                save_name='iiit5k_test.txt',
                md5='117bcd9b4245f61fa57bfb37361674b3',
                content=['annotation'],
                mapping=[['iiit5k_test.txt', 'annotations/test.txt']]),
        ]),
    gatherer=dict(type='MonoGatherer', ann_name='test.txt'),
    parser=dict(type='BaseNameTxtRecogAnnParser', separator=' ', format='img text'),
    packer=dict(type='TextRecogPacker'),
    dumper=dict(type='JsonDumper'))

# The extracted tarball (its .mat files, lexicon) and the raw label files.
delete = ['annotations', 'IIIT5K']
config_generator = dict(type='TextRecogConfigGenerator')
