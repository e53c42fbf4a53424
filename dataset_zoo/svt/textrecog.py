# Street View Text (Wang & Belongie, ECCV 2010): full street images with word boxes in
# svt1/{train,test}.xml. Word crops are cut from the boxes by the wheel's
# TextRecogCropPacker (no padding): 257 train / 647 test words. SVT labels are
# upper case; SVTTextDetAnnParser lower-cases them (evaluation ignores case).
# `data_root` and `cache_path` are defaults; tools/prepare_dataset.py overrides both.
data_root = 'data/svt'
cache_path = 'data/cache'

train_preparer = dict(
    obtainer=dict(
        type='NaiveDataObtainer',
        cache_path=cache_path,
        files=[
            dict(
                url='http://www.iapr-tc11.org/dataset/SVT/svt.zip',
                save_name='svt.zip',
                md5='42d19160010d990ae6223b14f45eff88',
                content=['image', 'annotation']),
        ]),
    # Read the xml and the full images where the archive put them (svt/svt1/...).
    gatherer=dict(
        type='MonoGatherer',
        ann_name='train.xml',
        ann_dir='svt/svt1',
        img_dir='svt/svt1/img'),
    parser=dict(type='SVTTextDetAnnParser'),
    packer=dict(type='TextRecogCropPacker'),
    dumper=dict(type='JsonDumper'))

test_preparer = dict(
    obtainer=dict(
        type='NaiveDataObtainer',
        cache_path=cache_path,
        files=[
            dict(
                url='http://www.iapr-tc11.org/dataset/SVT/svt.zip',
                save_name='svt.zip',
                md5='42d19160010d990ae6223b14f45eff88',
                content=['image', 'annotation']),
        ]),
    gatherer=dict(
        type='MonoGatherer',
        ann_name='test.xml',
        ann_dir='svt/svt1',
        img_dir='svt/svt1/img'),
    parser=dict(type='SVTTextDetAnnParser'),
    packer=dict(type='TextRecogCropPacker'),
    dumper=dict(type='JsonDumper'))

# The crops live in textrecog_imgs/{train,test}; the full images are not kept.
delete = ['svt']
config_generator = dict(type='TextRecogConfigGenerator')
